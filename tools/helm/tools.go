//go:build tools

// Wrapper module: builds helm from the Go module proxy (helm.sh/helm/v4/cmd/helm) for
// Tether's chart tests, pinned by go.mod and go.sum.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
