{{- define "sfoe.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sfoe.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "sfoe.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "sfoe.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sfoe.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sfoe.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sfoe.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "sfoe.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "sfoe.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "sfoe.secretName" -}}
{{- default (printf "%s-secrets" (include "sfoe.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- /* Every *_file of the config must lie in the Secret's mount and, when
the chart creates the Secret, be one of its files. */ -}}
{{- define "sfoe.validate" -}}
{{- range $i, $org := .Values.config.orgs }}
{{- range $key, $path := $org.auth }}
{{- if hasSuffix "_file" $key }}
{{- if not (hasPrefix "/etc/salesforce_oauth_exporter/secrets/" (toString $path)) }}
{{- fail (printf "config.orgs[%d].auth.%s is %q: the secret files are mounted at /etc/salesforce_oauth_exporter/secrets/; use /etc/salesforce_oauth_exporter/secrets/<file>" $i $key (toString $path)) }}
{{- end }}
{{- if and (not $.Values.secrets.existingSecret) $.Values.secrets.files (not (hasKey $.Values.secrets.files (base (toString $path)))) }}
{{- fail (printf "config.orgs[%d].auth.%s names %s, which secrets.files lacks: add it there, or set secrets.existingSecret" $i $key (base (toString $path))) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
