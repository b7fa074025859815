//go:build tools

// Package tools pins the controller's main package so `go mod tidy` keeps its dependencies.
package tools

import _ "github.com/fluxcd/kustomize-controller"
