# Traces, metrics and logs over OTLP; the OTEL_* environment variables win over this.
OpenTelemetry:
  Endpoint: ${OTLP_ENDPOINT:-localhost:4317}
  Sampler: 1.0

Log:
  Encoding: plain

# go-zero's DevServer: /healthz, /metrics and CPU profiles (/debug/pprof/profile?seconds=30,
# /debug/pprof/flamegraph?seconds=30; rzero's `pprof` feature) on a port of their own,
# loopback only unless Host says otherwise:
# DevServer:
#   Enabled: true
#   Port: 6060
