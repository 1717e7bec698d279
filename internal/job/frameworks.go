package job

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Print writes the tenant's scope for `evidence frameworks`: the
// frameworks, with their cloud and number of reports, and the cloud
// accounts, each as --framework and --account name it, and the parts of
// the tenant that discovery could not reach (whose names are missing).
func (d Discovery) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "TENANT %s (%s, %s)\n", d.Tenant, d.API, d.BaseURL)
	for _, fl := range d.Failures {
		fmt.Fprintf(tw, "  unreachable %s\n", fl)
	}
	fmt.Fprintln(tw, "\n  FRAMEWORK\tCLOUD\tREPORTS")
	for _, fw := range d.Frameworks {
		fmt.Fprintf(tw, "  %s\t%s\t%d\n", fw.Name, fw.Cloud, len(fw.Units))
	}
	fmt.Fprintln(tw, "\n  ACCOUNT (<sub-account>/<cloud>:<id>)")
	for _, a := range d.Accounts {
		fmt.Fprintf(tw, "  %s\n", a)
	}
	return tw.Flush()
}
