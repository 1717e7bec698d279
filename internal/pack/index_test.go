package pack_test

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage/local"
	"github.com/evidence-pack/evidence/internal/testtool"
)

// Every pack has index.html: a static page, loaded by a real browser
// (headless Chromium), with no script and a policy that lets it fetch
// nothing, listing every other file of the pack with what it is, its size
// and its SHA-256 as the manifest records them, each linked to a file that
// is there.
func TestIndexPage(t *testing.T) {
	root := t.TempDir()
	s, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	publishSample(t, s)
	dir := filepath.Join(root, filepath.FromSlash(packPrefix))
	rep, err := pack.Verify(t.Context(), s, packPrefix)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v\n%s", err, rep)
	}

	dom := testtool.Headless(t, "--dump-dom", "file://"+filepath.Join(dir, pack.IndexName))
	doc, err := html.Parse(bytes.NewReader(dom))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{} // linked path → the row's cells
	links := map[string]bool{}
	csp := ""
	for n := range doc.Descendants() {
		switch {
		case n.Type == html.ElementNode && n.Data == "script":
			t.Error("the page has a script")
		case n.Type == html.ElementNode && n.Data == "meta" && attr(n, "http-equiv") == "Content-Security-Policy":
			csp = attr(n, "content")
		case n.Type == html.ElementNode && n.Data == "a":
			href, err := url.PathUnescape(attr(n, "href"))
			if err != nil || strings.Contains(href, ":") || strings.HasPrefix(href, "/") {
				t.Errorf("link %q is not relative to the pack", attr(n, "href"))
				continue
			}
			links[href] = true
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(href))); err != nil {
				t.Errorf("link %q leads nowhere: %v", href, err)
			}
		case n.Type == html.ElementNode && n.Data == "tr":
			var cells []string
			var linked string
			for c := range n.ChildNodes() {
				if c.Type == html.ElementNode && c.Data == "td" {
					cells = append(cells, strings.TrimSpace(text(c)))
					if a := first(c, "a"); a != nil {
						linked, _ = url.PathUnescape(attr(a, "href"))
					}
				}
			}
			if linked != "" {
				rows[linked] = cells
			}
		}
	}
	if !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q lets the page load things", csp)
	}
	for _, f := range rep.Manifest.Files {
		if f.Path == pack.IndexName || f.Path == pack.SumsName {
			continue // written after the page: it cannot hold their checksums
		}
		cells, ok := rows[f.Path]
		switch {
		case !ok:
			t.Errorf("%s: no row links it", f.Path)
		case len(cells) != 4 || cells[0] != f.Path || cells[1] == "" || cells[3] != f.SHA256:
			t.Errorf("%s: row %q, want its path, what it is, its size and SHA-256 %s", f.Path, cells, f.SHA256)
		}
	}
	if len(rows) != len(rep.Manifest.Files)-2 {
		t.Errorf("%d rows for %d data files", len(rows), len(rep.Manifest.Files)-2)
	}
	for _, want := range []string{"summary.pdf", "manifest.json", "SHA256SUMS"} {
		if !links[want] {
			t.Errorf("no link to %s", want)
		}
	}
	if !bytes.Contains(dom, []byte("evidence verify .")) || !bytes.Contains(dom, []byte("Get-FileHash")) {
		t.Error("the page does not say how to verify the pack from its folder")
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

func first(n *html.Node, tag string) *html.Node {
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == tag {
			return d
		}
	}
	return nil
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}
