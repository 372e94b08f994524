// Package compose holds no code: its tests keep docker-compose.yml, the
// Prometheus configuration and the Grafana dashboards true to the
// services' real configuration and metrics.
package compose
