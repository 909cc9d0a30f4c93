{{- /* Generated from the AppHost model (docs/deployment.md). Do not edit: change the model and regenerate. */}}
{{- define "temporal-orders.secretName" -}}
{{ .Values.secrets.existingSecret | default "temporal-orders-secrets" }}
{{- end }}
