{{/* The chart name, or nameOverride. */}}
{{- define "lookout.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The resource name: fullnameOverride, else the release name (when it already contains the chart name), else
"<release>-<chart>"; cut to 63 characters, the DNS label limit.
*/}}
{{- define "lookout.fullname" -}}
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

{{/* "lookout-0.1.0" for the helm.sh/chart label. */}}
{{- define "lookout.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the pod; they never change across upgrades. */}}
{{- define "lookout.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lookout.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "lookout.labels" -}}
helm.sh/chart: {{ include "lookout.chart" . }}
{{ include "lookout.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: lookout
{{- end }}

{{- define "lookout.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lookout.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "lookout.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The node agent's image: agent.image's repository and tag, each defaulting to the server's. */}}
{{- define "lookout.agentImage" -}}
{{- $repo := default .Values.image.repository .Values.agent.image.repository }}
{{- printf "%s:%s" $repo (default (default .Chart.AppVersion .Values.image.tag) .Values.agent.image.tag) }}
{{- end }}

{{/*
lookout.yml: Prometheus's global and scrape_configs, then Lookout's storage, limits and kubernetes sections.
The kubernetes section is always enabled here; its other keys come from .Values.config.kubernetes, plus
exclude_default_jobs (the node-local jobs) when the agent DaemonSet runs them (agent.enabled).
*/}}
{{- define "lookout.config" -}}
global:
  {{- toYaml .Values.config.global | nindent 2 }}
scrape_configs:
{{- with .Values.config.extraScrapeConfigs }}
  {{- toYaml . | nindent 2 }}
{{- else }} []
{{- end }}
{{- with .Values.config.storage }}
storage:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.config.limits }}
limits:
  {{- toYaml . | nindent 2 }}
{{- end }}
kubernetes:
  enabled: true
  {{- with omit .Values.config.kubernetes "enabled" }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  {{- if and .Values.agent.enabled (not .Values.agent.serverKeepsNodeJobs) }}
  {{- /* The agents scrape these node-locally; the server keeps apiserver, service endpoints, kube-state-metrics. */}}
  exclude_default_jobs:
    {{- toYaml (include "lookout.agentNodeJobs" . | fromYamlArray) | nindent 4 }}
  {{- end }}
collectors:
  {{- toYaml .Values.config.collectors | nindent 2 }}
{{- with .Values.config.auth }}
{{- /* The StatefulSet's probes stay answerable when authentication is on. */}}
{{- $auth := deepCopy . }}
{{- $_ := set $auth "public_paths" (concat (default (list) $auth.public_paths) (list "/-/healthy" "/-/ready") | uniq) }}
auth:
  {{- toYaml $auth | nindent 2 }}
{{- end }}
{{- end }}

{{/* The default jobs the agents run on each node, left out of the server's config when the agent is enabled. */}}
{{- define "lookout.agentNodeJobs" -}}
[kubelet, kubelet-cadvisor, kubelet-probes, kubernetes-pods]
{{- end }}

{{/*
Agent objects: "app.kubernetes.io/name: <name>-agent", so that neither the server's Service nor its StatefulSet
selects the agent pods.
*/}}
{{- define "lookout.agentName" -}}
{{- printf "%s-agent" (include "lookout.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lookout.agentSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-agent" (include "lookout.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "lookout.agentLabels" -}}
helm.sh/chart: {{ include "lookout.chart" . }}
{{ include "lookout.agentSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: lookout
app.kubernetes.io/component: agent
{{- end }}

{{- define "lookout.agentServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- include "lookout.agentName" . }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The release's Service URL, the agents' default forwarding target. */}}
{{- define "lookout.serviceURL" -}}
{{- printf "http://%s.%s.svc:%v" (include "lookout.fullname" .) .Release.Namespace .Values.service.port }}
{{- end }}

{{/*
The agent's lookout.yml: node-local scraping (host collector on the host's /proc, /sys and /, the kubelet jobs and
annotated pods on this node), the journal and pod logs, everything forwarded to the server (remote_write,
loki_write). node_name stays empty: the agent takes NODE_NAME from the downward API.
*/}}
{{- define "lookout.agentConfig" -}}
{{- $a := .Values.agent -}}
{{- $global := dict "scrape_interval" (default .Values.config.global.scrape_interval $a.scrapeInterval) -}}
{{- $_ := set $global "scrape_timeout" (default .Values.config.global.scrape_timeout $a.scrapeTimeout) -}}
{{- $_ := set $global "external_labels" (default dict .Values.config.global.external_labels) -}}
{{- $remoteWriteURL := default (printf "%s/api/v1/write" (include "lookout.serviceURL" .)) $a.remoteWrite.url -}}
{{- $remoteWrite := merge (dict "url" $remoteWriteURL) (omit $a.remoteWrite "url") -}}
{{- $lokiWriteURL := default (printf "%s/loki/api/v1/push" (include "lookout.serviceURL" .)) $a.lokiWrite.url -}}
{{- $lokiWrite := merge (dict "url" $lokiWriteURL) (omit $a.lokiWrite "url") -}}
global:
  {{- toYaml $global | nindent 2 }}
scrape_configs:
{{- with $a.extraScrapeConfigs }}
  {{- toYaml . | nindent 2 }}
{{- else }} []
{{- end }}
remote_write:
  {{- toYaml (list $remoteWrite) | nindent 2 }}
loki_write:
  {{- toYaml (list $lokiWrite) | nindent 2 }}
collectors:
  host:
    proc_root: /host/proc
    sys_root: /host/sys
    rootfs: /host/root
{{- if or $a.journal.enabled $a.podLogs.enabled }}
host_logs:
  {{- if $a.journal.enabled }}
  journal:
    path: {{ $a.journal.path }}
  {{- end }}
  {{- if $a.podLogs.enabled }}
  pods:
    path: /var/log/pods
  {{- end }}
{{- end }}
kubernetes:
  enabled: true
  default_scrape_jobs: true
  monitors:
    enabled: false
  kube_state_metrics:
    enabled: false
  rules:
    enabled: false
{{- end }}
