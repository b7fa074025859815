{{/* Chart name, truncated to the 63 characters of a label value. */}}
{{- define "tether.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release name, plus the chart name unless the release name contains it. */}}
{{- define "tether.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tether.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tether.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tether.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tether.labels" -}}
helm.sh/chart: {{ include "tether.chart" . }}
{{ include "tether.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "tether.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tether.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tether.leaseName" -}}
{{- default (include "tether.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "tether.claimName" -}}
{{- default (printf "%s-audit" (include "tether.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

{{/* Where the mounted Secrets live, and the file for each reference. */}}
{{- define "tether.secretsDir" -}}/etc/tether/secrets{{- end }}

{{/*
Checks that span several values, with messages that name the value and the fix; JSON schema
checks each value on its own (values.schema.json).
*/}}
{{- define "tether.validate" -}}
{{- if and (not .Values.apps) (not .Values.appResources.enabled) }}
{{- fail "apps is empty and appResources.enabled is false: set apps to at least one app to sync (name, source.repo, destination.namespace; see the chart's values.yaml and README.md), or appResources.enabled=true to declare apps as App resources. The agent refuses a config with nothing to sync." }}
{{- end }}
{{- if and .Values.appResources.serviceAccounts (not .Values.appResources.enabled) }}
{{- fail "appResources.serviceAccounts is set but appResources.enabled is false: only App resources impersonate ServiceAccounts. Set appResources.enabled=true, or remove appResources.serviceAccounts." }}
{{- end }}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail (printf "replicaCount is %d but leaderElection.enabled is false: replicas would reconcile the same apps at once. Set leaderElection.enabled=true, or replicaCount=1." (int .Values.replicaCount)) }}
{{- end }}
{{- if and .Values.persistence.enabled (gt (int .Values.replicaCount) 1) (not (has "ReadWriteMany" .Values.persistence.accessModes)) }}
{{- fail (printf "replicaCount is %d with persistence.accessModes %v: a ReadWriteOnce audit-log volume cannot be mounted by pods on different nodes. Use persistence.accessModes=[ReadWriteMany], or replicaCount=1." (int .Values.replicaCount) .Values.persistence.accessModes) }}
{{- end }}
{{- $apps := dict }}
{{- range $i, $app := .Values.apps }}
{{- if hasKey $apps $app.name }}
{{- fail (printf "apps[%d].name %q is used twice: app names must be unique." $i $app.name) }}
{{- end }}
{{- $_ := set $apps $app.name true }}
{{- if regexMatch "^[a-zA-Z][a-zA-Z0-9+.-]*://[^/@]*:[^/@]*@" $app.source.repo }}
{{- fail (printf "apps[%d].source.repo (app %q) has a password in the URL: put it in a Secret and reference it with apps[%d].source.credentialsSecret." $i $app.name $i) }}
{{- end }}
{{- end }}
{{- $hooks := dict }}
{{- range $i, $w := .Values.webhooks }}
{{- if hasKey $hooks $w.name }}
{{- fail (printf "webhooks[%d].name %q is used twice: webhook names must be unique." $i $w.name) }}
{{- end }}
{{- $_ := set $hooks $w.name true }}
{{- end }}
{{- if and .Values.ingress.enabled .Values.ingress.ui (not (or (.Values.ui.auth).bearerTokenSecret (.Values.ui.auth).basicAuthSecret)) }}
{{- fail "ingress.ui exposes the status page (apps, drift, the audit trail) beyond the cluster: set ui.auth.bearerTokenSecret or ui.auth.basicAuthSecret (an existing Secret), or ingress.ui=false." }}
{{- end }}
{{- if and .Values.ingress.ui (not .Values.ui.enabled) }}
{{- fail "ingress.ui routes the status page, but ui.enabled is false: set ui.enabled=true, or ingress.ui=false." }}
{{- end }}
{{- if not .Values.rbac.allowWildcards }}
{{- $rules := concat .Values.rbac.namespacedResources .Values.rbac.clusterResources }}
{{- range .Values.apps }}
{{- $rules = concat $rules ((.rbac).resources | default list) }}
{{- end }}
{{- range $rule := $rules }}
{{- range $field := list "apiGroups" "resources" "verbs" }}
{{- if has "*" ((get $rule $field) | default list) }}
{{- fail (printf "rbac: %q in %s of rule %s grants everything. List the %s explicitly, or set rbac.allowWildcards=true." "*" $field (toJson $rule) $field) }}
{{- end }}
{{- end }}
{{- end }}
{{- if has "*" .Values.rbac.verbs }}
{{- fail "rbac.verbs contains \"*\": list the verbs explicitly, or set rbac.allowWildcards=true." }}
{{- end }}
{{- end }}
{{- end }}

{{/* The namespaces of one app: its destination namespace and its allowed namespaces. */}}
{{- define "tether.appNamespaces" -}}
{{- $ns := list .destination.namespace }}
{{- range (.destination.allowedNamespaces | default list) }}
{{- $ns = append $ns . }}
{{- end }}
{{- toJson (uniq $ns) }}
{{- end }}

{{/*
The agent's config file (see DESIGN.md "Config file"): appResources (enabled, labelSelector),
and the values' apps with the chart-only keys (credentialsSecret, caSecret, sshSecret, *KeysSecret, notifications[].secret, rbac) replaced by the paths of the mounted
Secret files.
*/}}
{{- define "tether.config" -}}
{{- $dir := include "tether.secretsDir" . }}
{{- $apps := list }}
{{- range .Values.apps }}
{{- $src := omit (deepCopy .source) "credentialsSecret" "caSecret" "sshSecret" "verify" }}
{{- $app := . }}
{{- with .source.credentialsSecret }}
{{- $_ := set $src "usernameFile" (printf "%s/apps/%s/username" $dir $app.name) }}
{{- $_ := set $src "passwordFile" (printf "%s/apps/%s/password" $dir $app.name) }}
{{- end }}
{{- with .source.caSecret }}
{{- $_ := set $src "caFile" (printf "%s/apps/%s/ca.crt" $dir $app.name) }}
{{- end }}
{{- with .source.sshSecret }}
{{- $_ := set $src "sshKeyFile" (printf "%s/apps/%s/ssh-key" $dir $app.name) }}
{{- $_ := set $src "knownHostsFile" (printf "%s/apps/%s/known_hosts" $dir $app.name) }}
{{- end }}
{{- with .source.verify }}
{{- /* An unquoted `off` in values is YAML 1.1 false: write the string the agent expects. */}}
{{- $verify := dict "mode" (ternary "off" .mode (kindIs "bool" .mode)) }}
{{- with .pgpKeysSecret }}
{{- $_ := set $verify "pgpKeysFile" (printf "%s/apps/%s/pgp-keys" $dir $app.name) }}
{{- end }}
{{- with .sshKeysSecret }}
{{- $_ := set $verify "sshKeysFile" (printf "%s/apps/%s/ssh-keys" $dir $app.name) }}
{{- end }}
{{- $_ := set $src "verify" $verify }}
{{- end }}
{{- $out := dict "name" .name "source" $src "destination" (deepCopy .destination) }}
{{- with .sync }}
{{- $_ := set $out "sync" (deepCopy .) }}
{{- end }}
{{- with .render }}
{{- $_ := set $out "render" (deepCopy .) }}
{{- end }}
{{- with .notifications }}
{{- $notes := list }}
{{- range $i, $n := . }}
{{- $note := omit (deepCopy $n) "secret" }}
{{- with $n.secret }}
{{- $fileKey := get (dict "github" "tokenFile" "gitlab" "tokenFile" "webhook" "secretFile" "slack" "urlFile") $n.type }}
{{- $_ := set $note $fileKey (printf "%s/apps/%s/notify-%d" $dir $app.name $i) }}
{{- end }}
{{- $notes = append $notes $note }}
{{- end }}
{{- $_ := set $out "notifications" $notes }}
{{- end }}
{{- $apps = append $apps $out }}
{{- end }}
{{- $hooks := list }}
{{- range .Values.webhooks }}
{{- $hooks = append $hooks (dict "name" .name "type" .type "secretFile" (printf "%s/webhooks/%s/secret" $dir .name)) }}
{{- end }}
{{- $le := dict "enabled" .Values.leaderElection.enabled "namespace" .Release.Namespace "leaseName" (include "tether.leaseName" .) "leaseDurationSeconds" (int .Values.leaderElection.leaseDurationSeconds) }}
{{- $auditLog := "/var/lib/tether/audit.jsonl" }}
{{- $ui := dict "enabled" .Values.ui.enabled }}
{{- with .Values.ui.auth }}
{{- $auth := dict }}
{{- with .bearerTokenSecret }}
{{- $_ := set $auth "bearerTokenFile" (printf "%s/ui/token" $dir) }}
{{- end }}
{{- with .basicAuthSecret }}
{{- $_ := set $auth "basicAuthFile" (printf "%s/ui/users" $dir) }}
{{- end }}
{{- if $auth }}
{{- $_ := set $ui "auth" $auth }}
{{- end }}
{{- end }}
{{- $appResources := dict "enabled" .Values.appResources.enabled }}
{{- if and .Values.appResources.enabled .Values.appResources.labelSelector }}
{{- $_ := set $appResources "labelSelector" .Values.appResources.labelSelector }}
{{- end }}
{{- $config := dict "auditLog" $auditLog "listen" (printf "0.0.0.0:%d" (int .Values.port)) "logLevel" .Values.logLevel "leaderElection" $le "webhooks" $hooks "ui" $ui "appResources" $appResources "apps" $apps }}
{{- toYaml $config }}
{{- end }}
