{{- define "salesforce-oauth-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "salesforce-oauth-exporter.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "salesforce-oauth-exporter.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "salesforce-oauth-exporter.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "salesforce-oauth-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "salesforce-oauth-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "salesforce-oauth-exporter.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "salesforce-oauth-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "salesforce-oauth-exporter.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "salesforce-oauth-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "salesforce-oauth-exporter.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- /* Whether the pod mounts the service account's token: never, unless
serviceAccount.automountServiceAccountToken asks (a boolean). */ -}}
{{- define "salesforce-oauth-exporter.automountServiceAccountToken" -}}
{{- $v := .Values.serviceAccount.automountServiceAccountToken -}}
{{- if not (kindIs "bool" $v) -}}
{{- fail (printf "serviceAccount.automountServiceAccountToken is %q: want true or false" (toString $v)) -}}
{{- end -}}
{{- $v -}}
{{- end -}}

{{- define "salesforce-oauth-exporter.iocConfigMapName" -}}
{{- default (printf "%s-ioc-lists" (include "salesforce-oauth-exporter.fullname" .)) .Values.iocLists.existingConfigMap -}}
{{- end -}}

{{- /* Whether the pod mounts IOC lists. */ -}}
{{- define "salesforce-oauth-exporter.hasIOCLists" -}}
{{- if or .Values.iocLists.existingConfigMap .Values.iocLists.files }}true{{ end -}}
{{- end -}}

{{- /* The handler of a probe of path: an httpGet, or with
probes.basicAuth.existingSecret the exporter's probe command, whose
credentials come from the environment (a Secret), not the pod spec. */ -}}
{{- define "salesforce-oauth-exporter.probe" -}}
{{- $ := index . 0 -}}
{{- $path := index . 1 -}}
{{- $scheme := upper (toString $.Values.probes.scheme) -}}
{{- if and (ne $scheme "HTTP") (ne $scheme "HTTPS") -}}
{{- fail (printf "probes.scheme is %q: want HTTP or HTTPS" (toString $.Values.probes.scheme)) -}}
{{- end -}}
{{- if $.Values.probes.basicAuth.existingSecret -}}
{{- range $.Values.probes.httpHeaders -}}
{{- if eq (lower (toString .name)) "authorization" -}}
{{- fail "probes.httpHeaders sets Authorization and probes.basicAuth is set: drop the header (it would sit in plain text in the StatefulSet)" -}}
{{- end -}}
{{- end -}}
exec:
  command:
    - /bin/salesforce_oauth_exporter
    - probe
    - {{ printf "--url=%s://127.0.0.1:10157%s" (lower $scheme) $path | quote }}
    - {{ printf "--timeout=%ds" (int $.Values.probes.timeoutSeconds) | quote }}
    {{- if eq $scheme "HTTPS" }}
    - --tls.insecure-skip-verify
    {{- end }}
{{- else -}}
httpGet:
  path: {{ $path }}
  port: http
  scheme: {{ $scheme | quote }}
  {{- with $.Values.probes.httpHeaders }}
  httpHeaders:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
{{- end -}}

{{- define "salesforce-oauth-exporter.secretName" -}}
{{- default (printf "%s-secrets" (include "salesforce-oauth-exporter.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- /* Every *_file of the config must lie in the Secret's mount and, when
the chart creates the Secret, be one of its files. */ -}}
{{- define "salesforce-oauth-exporter.validate" -}}
{{- range $key := list "nameOverride" "fullnameOverride" }}
{{- $v := toString (get $.Values $key) }}
{{- if and $v (not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $v)) }}
{{- fail (printf "%s is %q: names of Kubernetes objects take lower-case letters, digits and '-', starting and ending with a letter or digit" $key $v) }}
{{- end }}
{{- end }}
{{- range $i, $org := .Values.config.orgs }}
{{- range $key := list "client_secret" "private_key" "refresh_token" "password" }}
{{- if hasKey (default dict $org.auth) $key }}
{{- fail (printf "config.orgs[%d].auth.%s: a secret in the config would be stored in a ConfigMap, readable by anyone who can read ConfigMaps (and the exporter refuses it). Put it in secrets.files (or secrets.existingSecret) and name the file: %s_file: /etc/salesforce_oauth_exporter/secrets/<file>" $i $key $key) }}
{{- end }}
{{- end }}
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
{{- $det := default dict .Values.config.detection }}
{{- range $i, $l := $det.ioc_lists }}
{{- $path := toString $l.file }}
{{- if not (hasPrefix "/etc/salesforce_oauth_exporter/ioc/" $path) }}
{{- fail (printf "config.detection.ioc_lists[%d].file is %q: the IOC lists are mounted at /etc/salesforce_oauth_exporter/ioc/; put the file in iocLists.files (or iocLists.existingConfigMap) and use /etc/salesforce_oauth_exporter/ioc/<file>" $i $path) }}
{{- end }}
{{- if not (include "salesforce-oauth-exporter.hasIOCLists" $) }}
{{- fail (printf "config.detection.ioc_lists[%d].file names %s, but iocLists.files and iocLists.existingConfigMap are empty: the exporter would not start. Add the list to one of them" $i $path) }}
{{- end }}
{{- if and (not $.Values.iocLists.existingConfigMap) (not (hasKey $.Values.iocLists.files (base $path))) }}
{{- fail (printf "config.detection.ioc_lists[%d].file names %s, which iocLists.files lacks: add it there, or set iocLists.existingConfigMap" $i (base $path)) }}
{{- end }}
{{- end }}
{{- end -}}
