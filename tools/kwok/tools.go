//go:build tools

// Package tools pins kwok (simulated nodes and pod lifecycle for the local control plane) as
// a dependency so `go mod tidy` keeps it.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
