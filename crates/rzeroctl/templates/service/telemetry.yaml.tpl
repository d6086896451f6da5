# Traces, metrics and logs over OTLP; the OTEL_* environment variables win over this.
OpenTelemetry:
  Endpoint: ${OTLP_ENDPOINT:-localhost:4317}
  Sampler: 1.0

Log:
  Encoding: plain
