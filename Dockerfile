# syntax=docker/dockerfile:1
# The Tether agent image. Tether runs its TypeScript sources directly on Node 24 (type
# stripping), so the image holds bin/, src/ and the production dependencies, nothing built.
#   docker build -t registry.example.com/tether:0.1.0 .
ARG NODE_IMAGE=node:24-slim

# Production dependencies only (no devDependencies, no install scripts), from the lockfile.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and not writable by the runtime user; the chart also mounts the root
# filesystem read-only and gives the agent emptyDirs (or a volume) for what it writes.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
# The `node` user of the official image (uid/gid 1000), numeric so runAsNonRoot can check it.
USER 1000:1000
EXPOSE 9090
ENTRYPOINT ["node", "bin/tether.js"]
CMD ["agent", "--config", "/etc/tether/tether.yaml"]
