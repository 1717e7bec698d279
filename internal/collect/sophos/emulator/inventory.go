package emulator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// Inventory data model: every enabled environment of a kind's providers
// holds a fixed number of objects of that kind (Config.*PerEnvironment),
// listed environment by environment; object j of environment e is a pure
// function of (Seed, e, kind, j).

// inventoryKind is one inventory endpoint, or one (cloudProvider,
// containerType) of api/v1/containers.
type inventoryKind struct {
	name    string   // hosts, users, serverless, containers/<type>
	types   []string // environment types that hold it
	perEnv  int
	render  func(s *Server, e *env, j int) any
	cType   string // containers: the container type
	cloudPr string // containers: the cloud provider
}

// containerEnvType maps a containers cloudProvider to the environment type
// it lists.
var containerEnvType = map[string]string{"eks": "AWS", "aks": "Azure", "gke": "GCP", "native": "Kubernetes"}

var containerTypes = []string{"clusters", "nodes", "pods", "containers"}

// containerSupported: a native Kubernetes environment is itself the
// cluster; the API has no clusters of it (the document lists the error
// "Provider:<p> not supported for Container-Type:<t>" without saying which
// pairs; this is the emulator's choice).
func containerSupported(cloudProvider, containerType string) bool {
	return !(cloudProvider == "native" && containerType == "clusters")
}

func (s *Server) hostsKind() inventoryKind {
	return inventoryKind{name: "hosts", types: []string{"AWS", "Azure", "GCP"}, perEnv: s.cfg.HostsPerEnvironment, render: (*Server).host}
}

func (s *Server) usersKind() inventoryKind {
	return inventoryKind{name: "users", types: []string{"AWS", "Azure", "GCP"}, perEnv: s.cfg.UsersPerEnvironment, render: (*Server).user}
}

func (s *Server) serverlessKind() inventoryKind {
	return inventoryKind{name: "serverless", types: []string{"AWS", "Azure"}, perEnv: s.cfg.FunctionsPerEnvironment, render: (*Server).function}
}

func (s *Server) containersKind(cloudProvider, containerType string) inventoryKind {
	k := inventoryKind{name: "containers/" + containerType, perEnv: s.cfg.ContainerObjectsPerType, cType: containerType, cloudPr: cloudProvider}
	if t, ok := containerEnvType[cloudProvider]; ok && containerSupported(cloudProvider, containerType) {
		k.types = []string{t}
	}
	k.render = func(s *Server, e *env, j int) any { return s.container(e, k, j) }
	return k
}

// inventoryEnvs are the environments of type envType (one of k.types)
// that hold k, limited to ids when given.
func (s *Server) inventoryEnvs(k inventoryKind, envType string, ids []string) []*env {
	if !slices.Contains(k.types, envType) {
		return nil
	}
	var out []*env
	for _, e := range s.envs {
		if e.pub.Type == envType && !e.pub.Disabled && (len(ids) == 0 || slices.Contains(ids, e.pub.ID)) {
			out = append(out, e)
		}
	}
	return out
}

// CountHosts returns the rows a correct client receives from GET
// api/v1/vms for provider (AWS, Azure, GCP), limited to accountIDs when given.
func (s *Server) CountHosts(provider string, accountIDs ...string) int {
	return len(s.inventoryEnvs(s.hostsKind(), provider, accountIDs)) * s.cfg.HostsPerEnvironment
}

// CountUsers is CountHosts for GET api/v1/users.
func (s *Server) CountUsers(provider string, accountIDs ...string) int {
	return len(s.inventoryEnvs(s.usersKind(), provider, accountIDs)) * s.cfg.UsersPerEnvironment
}

// CountServerless is CountHosts for GET api/v1/serverless (AWS, Azure).
func (s *Server) CountServerless(provider string, accountIDs ...string) int {
	return len(s.inventoryEnvs(s.serverlessKind(), provider, accountIDs)) * s.cfg.FunctionsPerEnvironment
}

// CountContainers returns the rows of GET api/v1/containers for
// cloudProvider (eks, aks, gke, native) and containerType; 0 for pairs the
// API does not support.
func (s *Server) CountContainers(cloudProvider, containerType string, accountIDs ...string) int {
	k := s.containersKind(cloudProvider, containerType)
	if len(k.types) == 0 {
		return 0
	}
	return len(s.inventoryEnvs(k, k.types[0], accountIDs)) * s.cfg.ContainerObjectsPerType
}

// ipv4 returns a private address.
func ipv4(r *emulatorkit.Rng) string {
	return fmt.Sprintf("10.%d.%d.%d", r.Intn(256), r.Intn(256), 1+r.Intn(254))
}

func publicIP(r *emulatorkit.Rng) string {
	return fmt.Sprintf("203.0.113.%d", 1+r.Intn(254))
}

func (s *Server) ts(offset time.Duration) string {
	return time.UnixMilli(s.anchor).Add(-offset).UTC().Format("2006-01-02T15:04:05.000+00:00")
}

// wireInventory is an element of the hosts, users, serverless and
// containers endpoints; which of the optional fields are set depends on the
// endpoint.
type wireInventory struct {
	AccountType  string         `json:"accountType"`
	AccountID    any            `json:"accountId"` // a string; AWS hosts: a number, as the vms sample types it
	InstanceID   string         `json:"instanceId,omitempty"`
	ObjectID     string         `json:"objectId,omitempty"`
	Name         string         `json:"name,omitempty"`
	FunctionName string         `json:"functionName,omitempty"`
	Region       string         `json:"region,omitempty"`
	MoreInfo     map[string]any `json:"moreInfo"`
}

func (s *Server) host(e *env, j int) any {
	r := e.key.Str("host").Num(int64(j)).Rng()
	region := emulatorkit.Pick(&r, regions[e.pub.Type])
	name := emulatorkit.Pick(&r, []string{"web", "api", "worker", "db", "bastion"}) + "-" + strconv.Itoa(j+1)
	agent := map[string]any{"agentId": r.UUID(), "hostname": name, "health": emulatorkit.Pick(&r, []string{"good", "suspicious", "bad"}),
		"osName": emulatorkit.Pick(&r, []string{"Ubuntu 24.04", "Amazon Linux 2023", "Windows Server 2022"}), "lastSeenAt": s.ts(time.Duration(r.Intn(3600)) * time.Second)}
	public := r.Intn(4) == 0
	switch e.pub.Type {
	case "AWS":
		// The vms sample types the AWS accountId "number" (the others "String").
		return wireInventory{AccountType: "AWS", AccountID: numericID(e.pub.ID), InstanceID: "i-0" + r.Hex(16), MoreInfo: map[string]any{
			"imageId": "ami-0" + r.Hex(16), "instanceProfileId": "AIPA" + strings.ToUpper(r.Hex(16)),
			"runningState": emulatorkit.Pick(&r, []string{"running", "stopped"}), "instanceType": emulatorkit.Pick(&r, []string{"t3.micro", "m6i.large", "c7g.xlarge"}),
			"region": region, "availabilityZone": region + "a", "subnetId": "subnet-" + r.Hex(17), "vpcId": "vpc-" + r.Hex(17),
			"isPublic": public, "hasContainerNodes": r.Intn(3) == 0, "isIAMRoleAssigned": r.Intn(2) == 0,
			"securityGroupList": []map[string]string{{"name": "default", "value": "sg-" + r.Hex(17)}},
			"networkInterfaces": []map[string]any{{"interfaceId": "eni-" + r.Hex(17), "isPublicIP": public, "publicIP": publicIP(&r), "privateIP": ipv4(&r)}},
			// The document shows AWS tags as a string holding JSON.
			"tags":           fmt.Sprintf(`{ "Name":%q, "env":"prod" }`, name),
			"lastModifiedBy": "arn:aws:iam::" + e.pub.ID + ":user/deployer",
			"serverAgent":    agent,
		}}
	case "Azure":
		rg := fmt.Sprintf("/subscriptions/%s/resourceGroups/rg-app/providers/Microsoft.Network/", e.pub.ID)
		vnet, nsg, nic := rg+"virtualNetworks/vnet-app", rg+"networkSecurityGroups/"+name+"-nsg", rg+"networkInterfaces/"+name+"-nic"
		return wireInventory{AccountType: "AZURE", AccountID: e.pub.ID,
			InstanceID: fmt.Sprintf("/subscriptions/%s/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/%s", e.pub.ID, name),
			MoreInfo: map[string]any{"name": name, "image": "Canonical:ubuntu-24_04-lts", "runningState": "VM running",
				"instanceType": "Standard_D2s_v5", "region": region, "osType": "Linux", "resourceGroup": "rg-app",
				"isPublic": public, "passwordLogin": r.Intn(2) == 0, "provisioningState": "Succeeded", "osDiskEncryption": true,
				"publicIP": publicIP(&r), "privateIP": ipv4(&r), "hasContainerNodes": false, "dataDisksEncryption": true,
				"tags": map[string]string{"env": "prod", "owner": "platform"}, "serverAgent": agent,
				"subnetId": vnet + "/subnets/default", "vnetId": vnet, "primarySecurityGroup": nsg,
				"securityGroupList": []map[string]string{{"name": name + "-nsg", "value": nsg}},
				"networkInterfaces": []map[string]any{{"interfaceId": nic, "name": name + "-nic", "publicIP": publicIP(&r), "privateIP": ipv4(&r), "nsgId": nsg,
					"ipConfigration": []map[string]any{{"name": "ipconfig1", "privateIP": ipv4(&r), "publicIP": publicIP(&r), "subnet": vnet + "/subnets/default",
						"primary": true, "applicationSecurityGroups": []any{}}}}},
				"vmScaleSetId": "", "vmScaleSet": ""}}
	default: // GCP
		return wireInventory{AccountType: "GCP", AccountID: e.pub.ID, InstanceID: r.Digits(19), MoreInfo: map[string]any{
			"name": name, "description": "", "instanceType": "e2-standard-2", "status": "RUNNING", "zone": region + "-b",
			"canIpForward": false, "kind": "compute#instance", "isPublic": public, "publicIP": publicIP(&r), "privateIP": ipv4(&r),
			"deletionProtection": r.Intn(2) == 0, "metadata": nil, "tags": nil, "firewallList": []string{"default-allow-ssh"},
			"hasContainerNodes": false, "cpuPlatform": "Intel Cascade Lake", "startRestricted": false,
			"networkInterfaceList": []map[string]any{{"name": "nic0", "networkId": r.Digits(19), "privateIp": ipv4(&r), "subnetId": r.Digits(19),
				"kind": "compute#networkInterface", "accessConfigList": []map[string]any{{"name": "External NAT", "natIP": publicIP(&r),
					"publicPtrDomainName": "", "kind": "compute#accessConfig"}}}},
			"disksList": []map[string]any{{"name": name, "sourceImage": "projects/debian-cloud/global/images/debian-12", "diskSizeGb": "10",
				"diskType": "pd-balanced", "type": "PERSISTENT", "mode": "READ_WRITE", "source": "zones/" + region + "-b/disks/" + name,
				"index": 0, "isEncrypted": true}},
			"serviceAccountList": []map[string]any{{"email": r.Digits(12) + "-compute@developer.gserviceaccount.com",
				"scopes": []string{"https://www.googleapis.com/auth/cloud-platform"}}}}}
	}
}

func (s *Server) user(e *env, j int) any {
	r := e.key.Str("user").Num(int64(j)).Rng()
	name := emulatorkit.Pick(&r, []string{"alice", "bob", "carol", "dave", "erin", "frank"}) + strconv.Itoa(j+1)
	switch e.pub.Type {
	case "AWS":
		// Types as the users sample prints them (lastModifiedBy, attachedPolicies
		// and path Boolean; counts as strings).
		return wireInventory{AccountType: "AWS", AccountID: e.pub.ID, Name: name, MoreInfo: s.fill(&r, awsUserInfo, map[string]any{
			"arn": "arn:aws:iam::" + e.pub.ID + ":user/" + name, "userId": "AIDA" + strings.ToUpper(r.Hex(16)),
			"isMfaActive": strconv.FormatBool(r.Intn(3) != 0), "isActive": true, "accessKeyAge": strconv.Itoa(r.Intn(400)),
			"consolePasswdStatus": "enabled", "groupList": "developers", "isOverPrivileged": nil, "policyUtilizationRatio": nil})}
	case "Azure":
		return wireInventory{AccountType: "Azure", AccountID: e.pub.ID, Name: name, MoreInfo: s.fill(&r, azureUserInfo, map[string]any{
			"principalName": name + "@example.onmicrosoft.com", "mail": name + "@example.com", "userType": "Member",
			"isMfaActive": r.Intn(3) != 0, "isActive": true, "tenantId": r.UUID(), "deletionTimestamp": ""})}
	default:
		return wireInventory{AccountType: "GCP", AccountID: e.pub.ID, Name: name, MoreInfo: s.fill(&r, gcpUserInfo, map[string]any{
			"primaryEmail": name + "@example.com", "isAdmin": r.Intn(5) == 0, "isEnrolledIn2Sv": r.Intn(3) != 0,
			"isSuspended": false, "orgId": r.Digits(12), "deletionTime": ""})}
	}
}

// The moreInfo keys of the users, serverless and containers samples (seed
// 004), as "key:kind": s string, b boolean, n number, d a date (an ISO 8601
// string; the document writes "Date" or "String" for them). fill gives
// every key a value of its kind; the renderers set the meaningful ones.
const (
	awsUserInfo = "accessKeyAge:s arn:s attachedManagedPolicyCount:s consolePasswdStatus:s groupList:s isActive:b isMfaActive:s " +
		"lastActivity:d createDate:d lastModifiedBy:b attachedPolicies:b passwordLastChanged:d passwordLastUsed:d path:b userId:s " +
		"userPolicyCount:s isOverPrivileged:s policyUtilizationRatio:s"
	gcpUserInfo = "agreedToTerms:b changePasswordAtNextLogin:b creationTime:d deletionTime:d instanceId:s ipWhitelisted:b isAdmin:b " +
		"isArchived:b isDelegatedAdmin:b isEnrolledIn2Sv:b isEnforcedIn2Sv:b isSuspended:b lastLoginTime:d orgId:s primaryEmail:s"
	azureUserInfo = "accessKeyAge:s attachedManagedPolicyCount:n consolePasswdStatus:s createDate:d deletionTimestamp:d groupList:s " +
		"instanceId:s isActive:b isMfaActive:b mail:s mainNickname:s passwordLastChanged:d passwordLastUsed:d principalName:s " +
		"signInName:s source:s tenantId:s usageLocation:s userPolicyCount:n userType:s"
	awsFunctionInfo = "functionArn:s runtime:s role:s codeSize:n memorySize:n lastModified:d version:s revisionId:s vpcId:s " +
		"lastModifiedBy:d functionPolicy:s mappedSecurityGroupIdList:s executionRole:s mappedTags:s"
	azureFunctionInfo = "resourceGroup:s instanceId:s alwaysOn:b appServicePlanId:s autoSwapSlotName:s clientAffinityEnabled:b " +
		"clientCertEnabled:b containerSize:n defaultHostName:s enabled:b http20Enabled:b webSocketsEnabled:b storageAccount:s state:s " +
		"repositorySiteName:s remoteDebuggingEnabled:b httpsOnly:b defaultContainer:s lastModifiedTime:d localMySqlEnabled:b os:s " +
		"platformArchitecture:s isPublic:b ftpsOnly:b authEnabled:b principalId:s tlsVersion:s mappedOutboundIps:s mappedTags:s"
	clusterInfo = "instanceId:s region:s roleArn:s version:s createdAt:d endpoint:s platformVersion:s status:s vpcId:s " +
		"endpointPublicAccess:b endpointPrivateAccess:b mappedSecurityGroupList:s mappedSubnetList:s mappedLogging:s mappedTags:s"
	nodeInfo = "instanceId:s namespace:s publicIp:s vmId:s provider:s providerId:s podCIDR:s containerVersion:s kernelVersion:s " +
		"kubeProxyVersion:s kubeletVersion:s startTime:d cloudProvider:s cloudProviderId:s mappedAddresses:s mappedTags:s"
	podInfo = "instanceId:s namespace:s nodeName:s privateIP:s status:s startTime:d subDomain:s spawnedBy:s serviceAccount:s hostIP:s " +
		"isPublic:b isPrivileged:b cloudProvider:s cloudProviderId:s automountServiceAccountToken:b mappedPodSecurityContext:s " +
		"mappedTags:s mappedNodeSelector:s mappedOwnerRefList:s"
	containerInfo = "instanceId:s image:s imagePullPolicy:s status:s startedTime:d restartCount:n allowPrivilegeEscalation:b " +
		"privileged:b workingDir:s isStdin:b isStdinOnce:b cloudProvider:s cloudProviderId:s mappedPorts:s mappedSecurityContext:s " +
		"mappedCommands:s mappedArgs:s"
)

// fill returns an object with every key of keys ("key:kind ...") set to a
// value of its kind drawn from r, then the values of set on top.
func (s *Server) fill(r *emulatorkit.Rng, keys string, set map[string]any) map[string]any {
	out := make(map[string]any, len(set)+16)
	for _, f := range strings.Fields(keys) {
		k, kind, _ := strings.Cut(f, ":")
		switch kind {
		case "b":
			out[k] = r.Intn(2) == 0
		case "n":
			out[k] = r.Intn(1000)
		case "d":
			out[k] = s.ts(time.Duration(r.Intn(365*24)) * time.Hour)
		default:
			out[k] = k + "-" + r.Hex(6)
		}
	}
	for k, v := range set {
		out[k] = v
	}
	return out
}

func (s *Server) function(e *env, j int) any {
	r := e.key.Str("function").Num(int64(j)).Rng()
	region := emulatorkit.Pick(&r, regions[e.pub.Type])
	name := emulatorkit.Pick(&r, []string{"ingest", "resize", "notify", "cleanup"}) + "-" + strconv.Itoa(j+1)
	if e.pub.Type == "AWS" {
		role := "arn:aws:iam::" + e.pub.ID + ":role/lambda-exec"
		return wireInventory{AccountType: "AWS", AccountID: e.pub.ID, FunctionName: name, Region: region, MoreInfo: s.fill(&r, awsFunctionInfo, map[string]any{
			"functionArn": fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, e.pub.ID, name),
			"runtime":     emulatorkit.Pick(&r, []string{"python3.12", "nodejs20.x", "provided.al2023"}), "role": role, "executionRole": role,
			"codeSize": 1000 + r.Intn(5_000_000), "memorySize": 128 << r.Intn(4), "version": "$LATEST", "revisionId": r.UUID(),
			"vpcId": nil, "mappedTags": "env=prod", "mappedSecurityGroupIdList": "", "functionPolicy": ""})}
	}
	id := fmt.Sprintf("/subscriptions/%s/resourceGroups/rg-functions/providers/Microsoft.Web/sites/%s", e.pub.ID, name)
	return wireInventory{AccountType: "Azure", AccountID: e.pub.ID, FunctionName: name, Region: region, MoreInfo: s.fill(&r, azureFunctionInfo, map[string]any{
		"resourceGroup": "rg-functions", "instanceId": id, "state": "Running", "httpsOnly": r.Intn(4) != 0, "os": "linux",
		"isPublic": r.Intn(3) == 0, "tlsVersion": "1.2", "mappedTags": `{"env":"prod"}`, "defaultHostName": name + ".azurewebsites.net",
		"enabled": true, "platformArchitecture": "x64", "principalId": r.UUID()})}
}

func (s *Server) container(e *env, k inventoryKind, j int) any {
	r := e.key.Str("container").Str(k.cloudPr + "/" + k.cType).Num(int64(j)).Rng()
	singular := strings.TrimSuffix(k.cType, "s")
	name := singular + "-" + r.Hex(6)
	set := map[string]any{"instanceId": r.UUID(), "status": emulatorkit.Pick(&r, []string{"Running", "Active", "Ready"}), "mappedTags": "team=platform"}
	keys := clusterInfo
	switch k.cType {
	case "clusters":
		set["region"] = emulatorkit.Pick(&r, regions[e.pub.Type])
		set["version"] = "1.31"
	case "nodes":
		keys = nodeInfo
		delete(set, "status") // the nodes sample has no status
	case "pods":
		keys = podInfo
	default:
		keys = containerInfo
		delete(set, "mappedTags") // the containers sample has no tags
		set["image"] = "registry.example.com/app:" + r.Hex(7)
	}
	if k.cType != "clusters" {
		set["cloudProvider"] = k.cloudPr
		if k.cType != "containers" {
			set["namespace"] = emulatorkit.Pick(&r, []string{"default", "kube-system", "payments"})
		}
	}
	return wireInventory{AccountType: e.pub.Type, AccountID: e.pub.ID, ObjectID: r.UUID(), Name: name, MoreInfo: s.fill(&r, keys, set)}
}

// wireAccount is an element of GET api/v1/accounts.
type wireAccount struct {
	AccountID            any      `json:"accountId"` // string, or a number (Config.NumericAccountIDs)
	AccountType          string   `json:"accountType"`
	Name                 string   `json:"name"`
	RegisteredDate       string   `json:"registeredDate"`
	CloudAssets          int      `json:"cloudAssets"`
	Status               string   `json:"status"`
	IsEnabled            bool     `json:"isEnabled"`
	IsSubAccount         bool     `json:"isSubAccount"`
	SubAccounts          []string `json:"subAccounts"`
	Tags                 []string `json:"tags"`
	AccountSyncBenchmark struct {
		LatestSuccessSyncTime         string `json:"latestSuccessSyncTime"`
		LatestSuccessBenchmarkRunTime string `json:"latestSuccessBenchmarkRunTime"`
	} `json:"accountSyncBenchmark"`
	CloudLogStatus string `json:"cloudLogStatus"`
	FlowLogStatus  string `json:"flowLogStatus"`
}

func (s *Server) account(e *env) wireAccount {
	a := wireAccount{
		AccountID:      e.pub.ID,
		AccountType:    e.pub.Type,
		Name:           e.pub.Name,
		RegisteredDate: s.ts(time.Duration(200+e.idx) * 24 * time.Hour),
		Status:         "Active",
		IsEnabled:      !e.pub.Disabled,
		SubAccounts:    []string{},
		Tags:           []string{strings.ToLower(e.pub.Type)},
		CloudLogStatus: "Enabled",
		FlowLogStatus:  "Enabled",
	}
	if s.cfg.NumericAccountIDs && e.pub.Type == "AWS" {
		a.AccountID = numericID(e.pub.ID)
	}
	if e.pub.Disabled {
		a.Status, a.CloudLogStatus, a.FlowLogStatus = "Disabled", "Disabled", "Disabled"
		return a
	}
	a.AccountSyncBenchmark.LatestSuccessSyncTime = s.ts(time.Hour)
	a.AccountSyncBenchmark.LatestSuccessBenchmarkRunTime = s.ts(2 * time.Hour)
	ids := []string{e.pub.ID}
	a.CloudAssets = s.CountHosts(e.pub.Type, ids...) + s.CountUsers(e.pub.Type, ids...) + s.CountServerless(e.pub.Type, ids...)
	for cp := range containerEnvType {
		for _, ct := range containerTypes {
			a.CloudAssets += s.CountContainers(cp, ct, ids...)
		}
	}
	return a
}

// numericID is id as a JSON number when it is all digits (leading zeros
// are lost, as a real JSON number loses them), else id itself.
func numericID(id string) any {
	if n, err := strconv.ParseUint(id, 10, 63); err == nil {
		return n
	}
	return id
}
