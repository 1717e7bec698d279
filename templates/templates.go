// Package templates holds what the PDF reports are made of besides data: the
// embedded Unicode fonts and the fixed texts, so wording changes without
// touching code. The fonts are DejaVu Sans, Sans Bold and Sans Mono (Latin,
// Greek, Cyrillic, Arabic, Hebrew; see fonts/LICENSE-DejaVu.txt) and Droid
// Sans Fallback (Chinese, Japanese, Korean; Apache-2.0, see
// fonts/LICENSE-DroidSansFallback.txt), all TrueType with glyf outlines.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"text/template"
)

//go:embed fonts/*.ttf fonts/LICENSE-*.txt text/*.tmpl
var files embed.FS

// Font returns an embedded font file by name (e.g. "DejaVuSans.ttf").
func Font(name string) ([]byte, error) {
	b, err := files.ReadFile("fonts/" + name)
	if err != nil {
		return nil, fmt.Errorf("templates: font %s: %w", name, err)
	}
	return b, nil
}

// Text renders the text template text/<name>.tmpl with data.
func Text(name string, data any) (string, error) {
	t, err := template.ParseFS(files, "text/"+name+".tmpl")
	if err != nil {
		return "", fmt.Errorf("templates: %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("templates: %s: %w", name, err)
	}
	return b.String(), nil
}
