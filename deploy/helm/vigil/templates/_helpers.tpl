{{/* The chart's names and shared pieces. */}}

{{- define "vigil.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "vigil.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "vigil.image" -}}
{{ printf "%s:%s" .Values.image.repository .Values.image.tag }}
{{- end -}}

{{- define "vigil.serviceAccountName" -}}
{{- .Values.serviceAccount.name -}}
{{- end -}}

{{/* The environment every vigil container gets: the store, the region, a writable data dir. */}}
{{- define "vigil.env" -}}
- name: VIGIL_STORE
  valueFrom:
    secretKeyRef:
      name: {{ .Values.store.existingSecret }}
      key: {{ .Values.store.key }}
- name: AWS_REGION
  value: {{ .Values.aws.region | quote }}
- name: VIGIL_DATA_DIR
  value: /tmp/vigil
{{- end -}}

{{- define "vigil.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* The scan container's arguments: one shard of an Indexed Job, or a leased worker. */}}
{{- define "vigil.scanArgs" -}}
{{- if eq .Values.scan.mode "shards" }}
- scan
- --org-role
- $(VIGIL_ORG_ROLE)
- --shard
- {{ printf "$(JOB_COMPLETION_INDEX)/%d" (int .Values.scan.shards) | quote }}
- --run
- $(VIGIL_RUN)
{{- else }}
- worker
- --org-role
- $(VIGIL_ORG_ROLE)
- --run
- $(VIGIL_RUN)
- --lease-seconds
- {{ .Values.scan.leaseSeconds | quote }}
{{- end }}
- --account-max-in-flight
- {{ .Values.scan.accountMaxInFlight | quote }}
{{- range .Values.scan.regions }}
- --region
- {{ . | quote }}
{{- end }}
- --quiet
{{- range .Values.scan.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* The scan Job's spec (also a CronJob's jobTemplate.spec). */}}
{{- define "vigil.scanJobSpec" -}}
{{- if eq .Values.scan.mode "shards" }}
completionMode: Indexed
completions: {{ .Values.scan.shards }}
parallelism: {{ .Values.scan.shards }}
backoffLimitPerIndex: {{ .Values.scan.backoffLimit }}
maxFailedIndexes: {{ .Values.scan.shards }}
{{- else }}
parallelism: {{ .Values.scan.workers }}
backoffLimit: {{ mul .Values.scan.workers (add1 .Values.scan.backoffLimit) }}
{{- end }}
ttlSecondsAfterFinished: {{ .Values.scan.ttlSecondsAfterFinished }}
template:
  metadata:
    labels:
      {{- include "vigil.labels" . | nindent 6 }}
      app.kubernetes.io/component: org-scan
  spec:
    serviceAccountName: {{ include "vigil.serviceAccountName" . }}
    restartPolicy: {{ if eq .Values.scan.mode "shards" }}Never{{ else }}OnFailure{{ end }}
    securityContext:
      {{- toYaml .Values.podSecurityContext | nindent 6 }}
    {{- with .Values.nodeSelector }}
    nodeSelector:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with .Values.tolerations }}
    tolerations:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with .Values.affinity }}
    affinity:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    containers:
      - name: {{ if eq .Values.scan.mode "shards" }}scan{{ else }}worker{{ end }}
        image: {{ include "vigil.image" . }}
        imagePullPolicy: {{ .Values.image.pullPolicy }}
        command: ["vigil"]
        args:
          {{- include "vigil.scanArgs" . | trim | nindent 10 }}
        env:
          {{- if eq .Values.scan.mode "shards" }}
          - name: JOB_COMPLETION_INDEX
            valueFrom:
              fieldRef:
                fieldPath: metadata.annotations['batch.kubernetes.io/job-completion-index']
          {{- end }}
          - name: VIGIL_RUN
            valueFrom:
              fieldRef:
                fieldPath: metadata.labels['batch.kubernetes.io/job-name']
          - name: VIGIL_ORG_ROLE
            value: {{ .Values.scan.orgRole | quote }}
          {{- include "vigil.env" . | nindent 10 }}
        resources:
          {{- toYaml .Values.scan.resources | nindent 10 }}
        securityContext:
          {{- include "vigil.containerSecurityContext" . | nindent 10 }}
        volumeMounts:
          - name: tmp
            mountPath: /tmp
    volumes:
      - name: tmp
        emptyDir: {}
{{- end -}}
