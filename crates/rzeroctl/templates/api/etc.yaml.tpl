# {{ name }}: go-zero's RestConf keys; ${VAR:-default} reads the environment.
# `{{ bin }} -f etc/{{ stem }}.yaml` reads this file; without `-f` the binary uses the copy
# embedded at build time.
Name: {{ name | yaml_str }}
Host: ${ {{- env -}} _HOST:-0.0.0.0}
Port: ${ {{- env -}} _PORT:-8888}
Timeout: 3000

{% include "service/telemetry.yaml.tpl" %}
{% for j in jwt %}

# @server(jwt: {{ j.key }}): tokens are HS256-signed with AccessSecret.
{{ j.key }}:
  AccessSecret: ${ {{- j.env -}} :-replace-this-secret-of-at-least-32-bytes}
  AccessExpire: 86400
{% endfor %}
