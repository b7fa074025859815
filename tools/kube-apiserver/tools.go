//go:build tools

// Package tools pins the control-plane commands as dependencies so `go mod tidy` keeps them:
// kube-apiserver, kube-controller-manager and kube-scheduler, all from one k8s.io/kubernetes.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
