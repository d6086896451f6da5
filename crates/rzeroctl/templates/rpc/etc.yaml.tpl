# {{ crate_name }}: go-zero's RPC server keys; ${VAR:-default} reads the environment.
# `{{ bin }} -f etc/{{ stem }}.yaml` reads this file; without `-f` the binary uses the copy
# embedded at build time.
Name: {{ name | yaml_str }}
ListenOn: ${ {{- env -}} _LISTEN_ON:-0.0.0.0:8080}
Timeout: 2000

# Register in etcd under Key so that clients find this server (needs a running etcd):
# Etcd:
#   Hosts:
#     - 127.0.0.1:2379
#   Key: {{ name }}

{% include "service/telemetry.yaml.tpl" %}
