//go:build tools

// Package tools pins kube-apiserver as a dependency so `go mod tidy` keeps it.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
