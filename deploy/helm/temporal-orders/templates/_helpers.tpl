{{- /* Generated from the AppHost model (README, "Deploy"). Do not edit: change the model and regenerate. */}}
{{- define "temporal-orders.secretName" -}}
{{ .Values.secrets.existingSecret | default "temporal-orders-secrets" }}
{{- end }}
