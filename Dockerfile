# syntax=docker/dockerfile:1
# The Tether agent image: bin/, the JavaScript compiled from src/ (npm run build: less memory
# and a faster start than stripping types at load), the production dependencies, and the
# tools the agent runs for an app: kustomize (kustomization directories, found on PATH),
# helm (for `renderer: command` declarations such as `helm template`) and git with its ssh
# client (kustomize fetches remote bases such as `github.com/org/repo//base?ref=v1` with git).
#   docker build -t registry.example.com/tether:0.1.0 .
# Versions are pinned here and by the wrapper modules' go.mod and go.sum (tools/helm,
# tools/image): bump them together. test/integration/image.test.ts checks that they agree.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim
ARG GO_IMAGE=golang:1.26.8-bookworm

# kustomize and helm, built from the Go module proxy. GOFLAGS=-mod=readonly refuses any
# change to go.mod/go.sum, and with GONOSUMDB, GONOSUMCHECK and GOINSECURE unset every
# downloaded module is checked against the committed go.sum (and the checksum database).
FROM ${GO_IMAGE} AS tools
ARG HELM_VERSION=v4.3.1
ARG KUSTOMIZE_VERSION=v5.8.2
ENV CGO_ENABLED=0 \
    GOFLAGS=-mod=readonly \
    GOPROXY=https://proxy.golang.org \
    GOSUMDB=sum.golang.org \
    GOTOOLCHAIN=local
WORKDIR /src/helm
COPY tools/helm/go.mod tools/helm/go.sum tools/helm/tools.go ./
RUN go mod download \
 && go build -trimpath -o /out/helm \
      -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION} -X helm.sh/helm/v4/internal/version.metadata= -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
      helm.sh/helm/v4/cmd/helm \
 && /out/helm version --template '{{.Version}}' | grep -qx "${HELM_VERSION}"
WORKDIR /src/kustomize
COPY tools/image/go.mod tools/image/go.sum tools/image/tools.go ./
RUN go mod download \
 && go build -trimpath -o /out/kustomize \
      -ldflags "-s -w -X sigs.k8s.io/kustomize/api/provenance.version=${KUSTOMIZE_VERSION}" \
      sigs.k8s.io/kustomize/kustomize/v5 \
 && /out/kustomize version | grep -qx "${KUSTOMIZE_VERSION}"

# Production dependencies only (no devDependencies, no install scripts), from the lockfile.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# dist/ compiled from src/ with the project's TypeScript, and the status page bundled by
# esbuild into dist/ui/assets (devDependencies stay in this stage).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tools/build.ts tools/source-stamp.js ./tools/
COPY src ./src
RUN node tools/build.ts

FROM ${NODE_IMAGE}
# git and its ssh client (git remotes over SSH, and kustomize's remote bases where an app
# allows them), the CA bundle for https, and bubblewrap, which runs each renderer with only
# the commit's files readable and no network (src/render/sandbox.ts). The Debian release is
# pinned by NODE_IMAGE; the packages follow its security updates.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap ca-certificates git openssh-client \
 && rm -rf /var/lib/apt/lists/*
# kustomize and helm are found on PATH (src/render/tools.ts).
COPY --from=tools /out/kustomize /out/helm /usr/local/bin/
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and not writable by the runtime user; the chart also mounts the root
# filesystem read-only and gives the agent emptyDirs (or a volume) for what it writes:
# /var/lib/tether (audit log), /var/cache/tether (TETHER_CACHE_DIR) and /tmp (HOME).
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY tools/source-stamp.js ./tools/
# The App CRD that `tether install-crds` applies, read from the package as the chart ships it.
COPY charts/tether/crds ./charts/tether/crds
# Without src/ next to it, bin/tether.js runs dist/ as built.
COPY --from=build /app/dist ./dist
ENV TETHER_CACHE_DIR=/var/cache/tether \
    HOME=/tmp
# The `node` user of the official image (uid/gid 1000), numeric so runAsNonRoot can check it.
USER 1000:1000
EXPOSE 9090
ENTRYPOINT ["node", "bin/tether.js"]
CMD ["agent", "--config", "/etc/tether/tether.yaml"]
