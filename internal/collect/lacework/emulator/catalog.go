package emulator

// Static, read-only tables the generated data is drawn from. They are never
// written after package initialisation.

// Cloud identifiers used internally.
const (
	cloudAWS = iota
	cloudAzure
	cloudGCP
	cloudK8s
	numClouds
)

// cloudNames are the subReportType / Framework.Cloud values.
var cloudNames = [numClouds]string{"AWS", "Azure", "GCP", "K8s"}

// datasets maps ComplianceEvaluations datasets to clouds.
var datasets = map[string]int{
	"AwsCompliance":   cloudAWS,
	"AzureCompliance": cloudAzure,
	"GcpCompliance":   cloudGCP,
	"K8sCompliance":   cloudK8s,
}

// inventoryCSPs maps the Inventory csp values to clouds.
var inventoryCSPs = map[string]int{"AWS": cloudAWS, "Azure": cloudAzure, "GCP": cloudGCP}

// inventoryDatasets is the deprecated Inventory "dataset" alternative to csp.
var inventoryDatasets = map[string]string{"AwsCompliance": "AWS", "GcpCompliance": "GCP"}

// severityNames indexes the evaluation severity strings by report SEVERITY
// (1 = Critical ... 5 = Info).
var severityNames = [6]string{"", "Critical", "High", "Medium", "Low", "Info"}

// Evaluation / recommendation status values (wire spelling).
const (
	statusCompliant      = "Compliant"
	statusNonCompliant   = "NonCompliant"
	statusSuppressed     = "Suppressed"
	statusCouldNotAssess = "CouldNotAssess"
	statusManual         = "RequiresManualAssessment"
)

// pickStatus maps a uniform value in [0,100) to a status: 45% compliant,
// 35% non-compliant, 5% suppressed, 5% could not assess, 10% manual.
func pickStatus(p int) string {
	switch {
	case p < 45:
		return statusCompliant
	case p < 80:
		return statusNonCompliant
	case p < 85:
		return statusSuppressed
	case p < 90:
		return statusCouldNotAssess
	default:
		return statusManual
	}
}

// policySeed is one entry of a cloud's control catalogue.
type policySeed struct {
	title, section, service string
	severity                int // 1..5
	reason                  string
}

var policySeeds = [numClouds][]policySeed{
	cloudAWS: {
		{"Ensure MFA is enabled for the 'root' user account", "Identity and Access Management", "aws:iam", 1, "RootAccountMfaNotEnabled"},
		{"Ensure no 'root' user account access key exists", "Identity and Access Management", "aws:iam", 1, "RootAccountHasActiveAccessKeys"},
		{"Ensure IAM password policy requires minimum length of 14 or greater", "Identity and Access Management", "aws:iam", 3, "PasswordPolicyMinLengthTooShort"},
		{"Ensure access keys are rotated every 90 days or less", "Identity and Access Management", "aws:iam", 2, "AccessKeyNotRotated"},
		{"Ensure credentials unused for 45 days or greater are disabled", "Identity and Access Management", "aws:iam", 2, "CredentialsUnused45Days"},
		{"Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached", "Identity and Access Management", "aws:iam", 1, "PolicyAllowsFullAdmin"},
		{"Ensure S3 Bucket Policy is set to deny HTTP requests", "Storage", "aws:s3", 3, "BucketAllowsHttp"},
		{"Ensure MFA Delete is enabled on S3 buckets", "Storage", "aws:s3", 4, "BucketMfaDeleteDisabled"},
		{"Ensure that S3 Buckets are configured with 'Block public access (bucket settings)'", "Storage", "aws:s3", 2, "BucketPublicAccessNotBlocked"},
		{"Ensure EBS Volume Encryption is Enabled in all Regions", "Storage", "aws:ec2", 3, "EbsDefaultEncryptionDisabled"},
		{"Ensure that encryption is enabled for RDS Instances", "Storage", "aws:rds", 2, "RdsStorageNotEncrypted"},
		{"Ensure CloudTrail is enabled in all regions", "Logging", "aws:cloudtrail", 1, "NoMultiRegionTrail"},
		{"Ensure CloudTrail log file validation is enabled", "Logging", "aws:cloudtrail", 3, "LogFileValidationDisabled"},
		{"Ensure AWS Config is enabled in all regions", "Logging", "aws:config", 3, "ConfigRecorderDisabled"},
		{"Ensure rotation for customer created symmetric CMKs is enabled", "Logging", "aws:kms", 3, "KeyRotationDisabled"},
		{"Ensure VPC flow logging is enabled in all VPCs", "Logging", "aws:ec2", 4, "VpcFlowLogsDisabled"},
		{"Ensure a log metric filter and alarm exist for unauthorized API calls", "Monitoring", "aws:cloudwatch", 4, "NoUnauthorizedApiCallsAlarm"},
		{"Ensure a log metric filter and alarm exist for security group changes", "Monitoring", "aws:cloudwatch", 4, "NoSecurityGroupChangesAlarm"},
		{"Ensure no Network ACLs allow ingress from 0.0.0.0/0 to remote server administration ports", "Networking", "aws:ec2", 2, "NaclAllowsAdminPortsFromInternet"},
		{"Ensure no security groups allow ingress from 0.0.0.0/0 to remote server administration ports", "Networking", "aws:ec2", 1, "SecurityGroupAllowsAdminPortsFromInternet"},
		{"Ensure the default security group of every VPC restricts all traffic", "Networking", "aws:ec2", 3, "DefaultSecurityGroupAllowsTraffic"},
		{"Ensure routing tables for VPC peering are \"least access\"", "Networking", "aws:ec2", 5, "PeeringRouteTooBroad"},
	},
	cloudAzure: {
		{"Ensure that multi-factor authentication is enabled for all privileged users", "Identity and Access Management", "azure:ms:ad", 1, "PrivilegedUserWithoutMfa"},
		{"Ensure that no custom subscription owner roles are created", "Identity and Access Management", "azure:ms:authority", 3, "CustomRoleWithSubscriptionOwnership"},
		{"Ensure Guest Users Are Reviewed on a Regular Basis", "Identity and Access Management", "azure:ms:ad", 4, "GuestUsersNotReviewed"},
		{"Ensure that Microsoft Defender for Servers is set to 'On'", "Microsoft Defender", "azure:ms:security", 2, "DefenderForServersOff"},
		{"Ensure that 'Secure transfer required' is set to 'Enabled'", "Storage Accounts", "azure:ms:storage", 2, "SecureTransferDisabled"},
		{"Ensure that 'Public access level' is disabled for storage accounts with blob containers", "Storage Accounts", "azure:ms:storage", 1, "BlobContainerPublicAccess"},
		{"Ensure that 'Auditing' is set to 'On'", "Database Services", "azure:ms:sql", 3, "SqlServerAuditingOff"},
		{"Ensure that Azure Active Directory Admin is Configured for SQL Servers", "Database Services", "azure:ms:sql", 3, "SqlAadAdminMissing"},
		{"Ensure that Activity Log Alert exists for Create Policy Assignment", "Logging and Monitoring", "azure:ms:monitor", 4, "NoActivityLogAlertPolicyAssignment"},
		{"Ensure that RDP access from the Internet is evaluated and restricted", "Networking", "azure:ms:network", 1, "NsgAllowsRdpFromInternet"},
		{"Ensure that SSH access from the Internet is evaluated and restricted", "Networking", "azure:ms:network", 1, "NsgAllowsSshFromInternet"},
		{"Ensure Virtual Machines are utilizing Managed Disks", "Virtual Machines", "azure:ms:compute", 4, "VmUsesUnmanagedDisks"},
		{"Ensure that the Expiration Date is set for all Keys in RBAC Key Vaults", "Key Vault", "azure:ms:keyvault", 3, "KeyWithoutExpiration"},
		{"Ensure the Key Vault is Recoverable", "Key Vault", "azure:ms:keyvault", 2, "KeyVaultNotRecoverable"},
	},
	cloudGCP: {
		{"Ensure that corporate login credentials are used", "Identity and Access Management", "gcp:crm:projectIamPolicy", 3, "NonCorporateAccount"},
		{"Ensure that Service Account has no Admin privileges", "Identity and Access Management", "gcp:crm:projectIamPolicy", 1, "ServiceAccountHasAdminPrivileges"},
		{"Ensure user-managed/external keys for service accounts are rotated every 90 days or fewer", "Identity and Access Management", "gcp:iam:serviceAccountKey", 2, "ServiceAccountKeyNotRotated"},
		{"Ensure that Cloud Audit Logging is configured properly", "Logging and Monitoring", "gcp:crm:projectIamPolicy", 3, "AuditLoggingNotConfigured"},
		{"Ensure log metric filter and alerts exist for project ownership assignments/changes", "Logging and Monitoring", "gcp:logging:metric", 4, "NoOwnershipChangeAlert"},
		{"Ensure that the default network does not exist in a project", "Networking", "gcp:compute:network", 3, "DefaultNetworkExists"},
		{"Ensure that SSH access is restricted from the internet", "Networking", "gcp:compute:firewall", 1, "FirewallAllowsSshFromInternet"},
		{"Ensure that instances are not configured to use the default service account", "Virtual Machines", "gcp:compute:instance", 2, "InstanceUsesDefaultServiceAccount"},
		{"Ensure 'Block Project-wide SSH keys' is enabled for VM instances", "Virtual Machines", "gcp:compute:instance", 3, "ProjectSshKeysAllowed"},
		{"Ensure that Cloud Storage bucket is not anonymously or publicly accessible", "Storage", "gcp:storage:bucket", 1, "BucketPubliclyAccessible"},
		{"Ensure that Cloud SQL database instances require all incoming connections to use SSL", "Cloud SQL Database Services", "gcp:sql:instance", 2, "SqlSslNotRequired"},
		{"Ensure that BigQuery datasets are not anonymously or publicly accessible", "BigQuery", "gcp:bigquery:dataset", 1, "DatasetPubliclyAccessible"},
	},
	cloudK8s: {
		{"Ensure that the --anonymous-auth argument is set to false", "Worker Nodes", "k8s:kubelet", 2, "AnonymousAuthEnabled"},
		{"Ensure that the --authorization-mode argument is not set to AlwaysAllow", "Worker Nodes", "k8s:kubelet", 1, "AuthorizationModeAlwaysAllow"},
		{"Ensure that audit logging is enabled", "Control Plane Configuration", "k8s:control-plane", 3, "AuditLoggingDisabled"},
		{"Minimize the admission of privileged containers", "Policies", "k8s:pod", 1, "PrivilegedContainerAdmitted"},
		{"Minimize the admission of containers wishing to share the host network namespace", "Policies", "k8s:pod", 2, "HostNetworkContainerAdmitted"},
		{"Ensure that the cluster-admin role is only used where required", "Policies", "k8s:rbac", 2, "ClusterAdminBindingTooBroad"},
		{"Minimize access to secrets", "Policies", "k8s:rbac", 3, "SecretsReadableByManySubjects"},
		{"Ensure that default service accounts are not actively used", "Policies", "k8s:serviceaccount", 4, "DefaultServiceAccountUsed"},
	},
}

// frameworkSeed describes one built-in report definition.
type frameworkSeed struct {
	reportName, reportType string
	cloud                  int
	offset                 int // first policy of the cloud catalogue it uses
}

var frameworkSeeds = []frameworkSeed{
	{"CIS Amazon Web Services Foundations Benchmark v1.4.0", "AWS_CIS_14", cloudAWS, 0},
	{"AWS SOC 2 Report", "AWS_SOC_2", cloudAWS, 7},
	{"AWS PCI DSS 3.2.1", "AWS_PCI_DSS_3.2.1", cloudAWS, 13},
	{"CIS Microsoft Azure Foundations Benchmark v1.5.0", "AZURE_CIS_1_5", cloudAzure, 0},
	{"GCP CIS Benchmark 1.3", "GCP_CIS13", cloudGCP, 0},
}

// moreAWSFrameworks are two more built-in AWS report definitions, offered
// with Config.MoreAWSFrameworks (an organisation assessed against five
// AWS frameworks). Seed 000 names reportType HIPAA in its example request
// but lists only AWS_CIS_14 for AWS; these report types are the AWS ones
// of the lacework CLI (lacework/go-sdk cli/cmd/compliance_aws.go: its
// list of report types), named as Lacework's console lists them.
var moreAWSFrameworks = []frameworkSeed{
	{"AWS HIPAA Report", "AWS_HIPAA", cloudAWS, 3},
	{"AWS NIST CSF", "AWS_NIST_CSF", cloudAWS, 10},
}

// customFramework is the disabled, user-created report definition.
var customFramework = frameworkSeed{"Acme Custom AWS Controls", "", cloudAWS, 3}

// inventoryType describes one resource type of an Inventory csp.
type inventoryType struct {
	resourceType, service, kind string
}

var inventoryTypes = [3][]inventoryType{
	cloudAWS: {
		{"ec2:instance", "ec2", "instance"},
		{"s3:bucket", "s3", "bucket"},
		{"iam:user", "iam", "user"},
		{"iam:role", "iam", "role"},
		{"ec2:security-group", "ec2", "security-group"},
		{"rds:db", "rds", "db"},
		{"lambda:function", "lambda", "function"},
		{"kms:key", "kms", "key"},
		{"cloudtrail:trail", "cloudtrail", "trail"},
		{"ec2:volume", "ec2", "volume"},
	},
	cloudAzure: {
		{"microsoft.compute/virtualmachines", "Microsoft.Compute", "virtualMachines"},
		{"microsoft.storage/storageaccounts", "Microsoft.Storage", "storageAccounts"},
		{"microsoft.network/networksecuritygroups", "Microsoft.Network", "networkSecurityGroups"},
		{"microsoft.keyvault/vaults", "Microsoft.KeyVault", "vaults"},
		{"microsoft.sql/servers", "Microsoft.Sql", "servers"},
	},
	cloudGCP: {
		{"compute.googleapis.com/Instance", "compute.googleapis.com", "instances"},
		{"storage.googleapis.com/Bucket", "storage.googleapis.com", "buckets"},
		{"iam.googleapis.com/ServiceAccount", "iam.googleapis.com", "serviceAccounts"},
		{"compute.googleapis.com/Firewall", "compute.googleapis.com", "firewalls"},
		{"sqladmin.googleapis.com/Instance", "sqladmin.googleapis.com", "sqlInstances"},
	},
}

var regions = [3][]string{
	cloudAWS:   {"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1"},
	cloudAzure: {"eastus", "westus2", "westeurope", "northeurope", "japaneast"},
	cloudGCP:   {"us-central1", "us-east1", "europe-west1", "asia-northeast1"},
}

// auditEvent is one kind of audit-log entry.
type auditEvent struct{ eventName, userAction, description string }

var auditEvents = []auditEvent{
	{"Login", "Login", "User signed in to the Lacework Console"},
	{"Logout", "Logout", "User signed out of the Lacework Console"},
	{"Create Alert Rule", "Create", "Created alert rule 'High severity compliance'"},
	{"Update Report Rule", "Update", "Updated report rule 'Weekly compliance digest'"},
	{"Suppress Alert", "Update", "Suppressed alert"},
	{"Create API Key", "Create", "Created API key for automation"},
	{"Delete Integration", "Delete", "Deleted cloud account integration"},
	{"Download Report", "Read", "Downloaded compliance report"},
	{"Update Policy", "Update", "Disabled policy lacework-global-7"},
	{"Create Access Token", "Create", "Generated an API access token"},
}

var auditUsers = []string{"alice@example.com", "bob@example.com", "carol@example.com", "svc-terraform@example.com", "auditor@example.com"}

// Tricky values (Faults.Tricky).
var (
	trickyCJK      = "東京リージョンのリソースが非準拠です"
	trickyAccents  = "Café résumé — naïve façade in Zürich"
	trickyRTL      = "مرحبا بالعالم"
	trickyEmoji    = "🔒 locked 🚀 shipped"
	trickyControl  = "line one\nline two\t\"quoted\", comma; semi"
	trickyFormulas = []string{"=HYPERLINK(\"http://x\")", "+1-555-0100", "-2", "@SUM(A1)"}
)

// longValueLen is the length of the one over-long value per result set; it
// exceeds the 32,767-character cell limit of spreadsheet applications.
const longValueLen = 40000

// longValue builds the deterministic over-long value (longValueLen runes).
func longValue() string {
	unit := []rune("Long value for spreadsheet-cell overflow testing. Ünïcödé 東京. ")
	r := make([]rune, longValueLen)
	for i := range r {
		r[i] = unit[i%len(unit)]
	}
	return string(r)
}
