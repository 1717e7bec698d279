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
		return wireInventory{AccountType: "AZURE", AccountID: e.pub.ID,
			InstanceID: fmt.Sprintf("/subscriptions/%s/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/%s", e.pub.ID, name),
			MoreInfo: map[string]any{"name": name, "image": "Canonical:ubuntu-24_04-lts", "runningState": "VM running",
				"instanceType": "Standard_D2s_v5", "region": region, "osType": "Linux", "resourceGroup": "rg-app",
				"isPublic": public, "passwordLogin": r.Intn(2) == 0, "provisioningState": "Succeeded", "osDiskEncryption": true,
				"publicIP": publicIP(&r), "privateIP": ipv4(&r), "hasContainerNodes": false, "dataDisksEncryption": true,
				"tags": map[string]string{"env": "prod", "owner": "platform"}, "serverAgent": agent}}
	default: // GCP
		return wireInventory{AccountType: "GCP", AccountID: e.pub.ID, InstanceID: r.Digits(19), MoreInfo: map[string]any{
			"name": name, "description": "", "instanceType": "e2-standard-2", "status": "RUNNING", "zone": region + "-b",
			"canIpForward": false, "kind": "compute#instance", "isPublic": public, "publicIP": publicIP(&r), "privateIP": ipv4(&r),
			"deletionProtection": r.Intn(2) == 0, "metadata": nil, "tags": nil, "firewallList": []string{"default-allow-ssh"},
			"hasContainerNodes": false}}
	}
}

func (s *Server) user(e *env, j int) any {
	r := e.key.Str("user").Num(int64(j)).Rng()
	name := emulatorkit.Pick(&r, []string{"alice", "bob", "carol", "dave", "erin", "frank"}) + strconv.Itoa(j+1)
	switch e.pub.Type {
	case "AWS":
		return wireInventory{AccountType: "AWS", AccountID: e.pub.ID, Name: name, MoreInfo: map[string]any{
			"arn": "arn:aws:iam::" + e.pub.ID + ":user/" + name, "userId": "AIDA" + strings.ToUpper(r.Hex(16)),
			"isMfaActive": strconv.FormatBool(r.Intn(3) != 0), "isActive": true, "createDate": s.ts(time.Duration(100+r.Intn(900)) * 24 * time.Hour),
			"accessKeyAge": strconv.Itoa(r.Intn(400)), "consolePasswdStatus": "enabled", "groupList": "developers",
			"isOverPrivileged": nil, "policyUtilizationRatio": nil}}
	case "Azure":
		return wireInventory{AccountType: "Azure", AccountID: e.pub.ID, Name: name, MoreInfo: map[string]any{
			"principalName": name + "@example.onmicrosoft.com", "mail": name + "@example.com", "userType": "Member",
			"isMfaActive": r.Intn(3) != 0, "isActive": true, "tenantId": r.UUID()}}
	default:
		return wireInventory{AccountType: "GCP", AccountID: e.pub.ID, Name: name, MoreInfo: map[string]any{
			"primaryEmail": name + "@example.com", "isAdmin": r.Intn(5) == 0, "isEnrolledIn2Sv": r.Intn(3) != 0,
			"isSuspended": false, "lastLoginTime": s.ts(time.Duration(r.Intn(720)) * time.Hour), "orgId": r.Digits(12)}}
	}
}

func (s *Server) function(e *env, j int) any {
	r := e.key.Str("function").Num(int64(j)).Rng()
	region := emulatorkit.Pick(&r, regions[e.pub.Type])
	name := emulatorkit.Pick(&r, []string{"ingest", "resize", "notify", "cleanup"}) + "-" + strconv.Itoa(j+1)
	if e.pub.Type == "AWS" {
		return wireInventory{AccountType: "AWS", AccountID: e.pub.ID, FunctionName: name, Region: region, MoreInfo: map[string]any{
			"functionArn": fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, e.pub.ID, name),
			"runtime":     emulatorkit.Pick(&r, []string{"python3.12", "nodejs20.x", "provided.al2023"}), "role": "arn:aws:iam::" + e.pub.ID + ":role/lambda-exec",
			"codeSize": 1000 + r.Intn(5_000_000), "memorySize": 128 << r.Intn(4), "lastModified": s.ts(time.Duration(r.Intn(90*24)) * time.Hour),
			"version": "$LATEST", "revisionId": r.UUID(), "vpcId": nil, "mappedTags": "env=prod"}}
	}
	return wireInventory{AccountType: "Azure", AccountID: e.pub.ID, FunctionName: name, Region: region, MoreInfo: map[string]any{
		"resourceGroup": "rg-functions", "instanceId": fmt.Sprintf("/subscriptions/%s/resourceGroups/rg-functions/providers/Microsoft.Web/sites/%s", e.pub.ID, name),
		"state": "Running", "httpsOnly": r.Intn(4) != 0, "os": "linux", "isPublic": r.Intn(3) == 0, "tlsVersion": "1.2", "mappedTags": `{"env":"prod"}`}}
}

func (s *Server) container(e *env, k inventoryKind, j int) any {
	r := e.key.Str("container").Str(k.cloudPr + "/" + k.cType).Num(int64(j)).Rng()
	singular := strings.TrimSuffix(k.cType, "s")
	name := singular + "-" + r.Hex(6)
	more := map[string]any{"instanceId": r.UUID(), "status": emulatorkit.Pick(&r, []string{"Running", "Active", "Ready"}), "mappedTags": "team=platform"}
	if k.cType == "clusters" {
		more["region"] = emulatorkit.Pick(&r, regions[e.pub.Type])
		more["version"] = "1.31"
	} else {
		more["namespace"] = emulatorkit.Pick(&r, []string{"default", "kube-system", "payments"})
		more["cloudProvider"] = k.cloudPr
	}
	return wireInventory{AccountType: e.pub.Type, AccountID: e.pub.ID, ObjectID: r.UUID(), Name: name, MoreInfo: more}
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
