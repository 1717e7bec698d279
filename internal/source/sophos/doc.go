// Package sophos is the Sophos Cloud Optix source: it opens a tenant's
// sophos: section, discovers the customer's environments, and plans the
// units that turn Cloud Optix alerts and inventory into the pack's tables.
//
// Mapping (see docs/sources/sophos.md for the user's view):
//
//   - Tenant and scope. One API key reads one Cloud Optix customer; it has no
//     sub-accounts, so the tenant's name is the one sub-account of every
//     unit. Environments (GET api/v1/accounts: AWS accounts, Azure
//     subscriptions, GCP projects, Kubernetes clusters) are the cloud
//     accounts. Disabled environments are listed in the inventory and in the
//     plan's warnings, and get no other unit.
//   - Frameworks. The API has no list of frameworks: they are the
//     document's policyTagList values (CIS, PCI, SOC2, ISO 27001, …), all of
//     them unless the section's frameworks: narrows them. A framework's
//     report unit is per environment (Cloud Optix alerts and its own
//     compliance reports are per environment, and a per-environment unit can
//     fail, retry and shard alone): the alerts of that framework and
//     environment whose lastSeen falls in the pack's period.
//   - Controls. An alert is one rule failing in one environment. Alerts are
//     grouped by rule (alertId) into one Control each: title alertSummary,
//     section controlIdDesc (else policyLabel), severity criticalLevel
//     mapped to Critical/High/Medium/Low (rank 1-4; anything else Info, 5),
//     status NonCompliant when an alert of the rule is OPEN, Suppressed when
//     all are SUPPRESS. Violations are the affected resources of open alerts
//     (region from the resource's dataMap, reasons failureReason and
//     Comment); resources of suppressed alerts are the control's
//     suppressions. Cloud Optix reports failing resources only, so Assessed
//     counts the affected resources. Controls are spooled to a JSON-lines
//     file in Env.SpoolDir, indexed by rule, so memory holds one control.
//   - Evaluations. Every alert of the period, per environment, one row per
//     affected resource (an alert without resources gives one row): status
//     NonCompliant (Suppressed for suppressed alerts or resources), dataset
//     <Cloud>Alerts (AwsAlerts, AzureAlerts, GcpAlerts, K8sAlerts),
//     evaluation type the alertType (Policy, Anomaly, GuardDuty).
//   - Inventory. Environments, hosts (vms), users, serverless functions and
//     container objects (clusters, nodes, pods, containers of EKS, AKS, GKE
//     and native Kubernetes), one unit per kind and provider; the
//     configuration column holds the API's object, the collection end is the
//     environment's latest successful sync.
//   - Audit logs. The cloud activity logs Cloud Optix holds (search keys
//     AWS_ACTIVITY_LOG, AZURE_ACTIVITY_LOG, GCP_ACTIVITY_LOG of GET
//     api/v1/search/{searchKey}), one unit per provider with selected
//     environments, over the request's audit window: time, environment,
//     user, event, service and the event as received (description). The
//     API has no audit log of the Cloud Optix console itself.
package sophos
