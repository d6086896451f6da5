# {{crate}}: go-zero's RPC server keys. `{{crate}} -f etc/{{stem}}.yaml` reads this file;
# without `-f` the binary uses the copy embedded at build time. `${VAR:-default}` is
# expanded, and the OTEL_* environment variables win over the OpenTelemetry section.
Name: {{stem}}.rpc
ListenOn: 0.0.0.0:8080
Timeout: 2000

# Register in etcd under Key so that clients find this server (needs a running etcd):
# Etcd:
#   Hosts:
#     - 127.0.0.1:2379
#   Key: {{stem}}.rpc

OpenTelemetry:
  Endpoint: ${OTLP_ENDPOINT:-localhost:4317}
  Sampler: 1.0
