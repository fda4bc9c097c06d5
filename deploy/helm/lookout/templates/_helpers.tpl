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

{{/*
lookout.yml: Prometheus's global and scrape_configs, then Lookout's storage, limits and kubernetes sections.
The kubernetes section is always enabled here; its other keys come from .Values.config.kubernetes.
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
collectors:
  {{- toYaml .Values.config.collectors | nindent 2 }}
{{- end }}
