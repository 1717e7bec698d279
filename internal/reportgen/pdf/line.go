package pdf

import (
	"fmt"
	"math"
)

// Point is one x position of a line chart, in order: a day of a series.
type Point struct {
	Label string  // the x-axis label; drawn for the first, the last and evenly spaced points between
	Value float64 // drawn when Has
	Has   bool    // false: no value here, the line breaks
	Gap   bool    // shaded as a gap (nothing is known of this point), and no value
}

// LineChart draws points as a line on a y axis from 0 to yMax (labelled
// with unit, "%"), one x position per point, as wide as the page: the line
// breaks where a point has no value, and gaps are shaded and named in the
// legend. A single point between breaks is drawn as a dot.
func (d *Doc) LineChart(title string, yMax float64, unit string, points []Point) {
	f := d.f
	d.started()
	const plotH, axisW, labelRoom = 45.0, 12.0, 16.0
	if f.GetY()+plotH+labelRoom+lineH+2 > d.height-footerRoom-5 {
		f.AddPage()
	}
	if title != "" {
		d.setFont(bold, bodySize)
		d.cell(d.width, lineH+1, title, "", 1, "L")
	}
	if yMax <= 0 || len(points) == 0 {
		d.setFont(regular, bodySize)
		return
	}
	x0, y0 := marginMM+axisW, f.GetY()+2
	w := d.width - axisW - 2
	step := w / float64(len(points))
	xOf := func(i int) float64 { return x0 + step*(float64(i)+0.5) }
	yOf := func(v float64) float64 { return y0 + plotH - plotH*math.Min(math.Max(v, 0), yMax)/yMax }

	// Gaps first, under the grid and the line.
	f.SetFillColor(250, 215, 215)
	gaps := 0
	for i, p := range points {
		if p.Gap {
			gaps++
			f.Rect(x0+step*float64(i), y0, step, plotH, "F")
		}
	}
	// Grid and y labels at 0, 25, 50, 75 and 100 % of yMax.
	d.setFont(regular, smallSize-1)
	f.SetLineWidth(0.1)
	f.SetDrawColor(200, 200, 200)
	for k := range 5 {
		v := yMax * float64(k) / 4
		y := yOf(v)
		f.Line(x0, y, x0+w, y)
		f.SetXY(marginMM, y-2)
		d.cell(axisW-1, 4, fmt.Sprintf("%g%s", v, unit), "", 0, "R")
	}
	f.SetDrawColor(0, 0, 0)
	f.Line(x0, y0, x0, y0+plotH)
	f.Line(x0, y0+plotH, x0+w, y0+plotH)

	// The line, broken where a point has no value.
	f.SetDrawColor(31, 119, 180)
	f.SetFillColor(31, 119, 180)
	f.SetLineWidth(0.5)
	for i, p := range points {
		if !p.Has || p.Gap {
			continue
		}
		prev := i > 0 && points[i-1].Has && !points[i-1].Gap
		next := i+1 < len(points) && points[i+1].Has && !points[i+1].Gap
		if prev {
			f.Line(xOf(i-1), yOf(points[i-1].Value), xOf(i), yOf(p.Value))
		}
		if !prev && !next {
			f.Circle(xOf(i), yOf(p.Value), math.Min(0.8, step/2), "F")
		}
	}
	f.SetLineWidth(0.2)
	f.SetDrawColor(0, 0, 0)

	// x labels: at most about one per 25 mm.
	every := max(1, int(math.Ceil(25/step)))
	d.setFont(regular, smallSize-1)
	for i, p := range points {
		if p.Label == "" || (i%every != 0 && i != len(points)-1) || (i != len(points)-1 && len(points)-1-i < every/2 && i != 0) {
			continue
		}
		f.Line(xOf(i), y0+plotH, xOf(i), y0+plotH+1)
		f.SetXY(xOf(i)-12, y0+plotH+1.5)
		d.cell(24, 4, p.Label, "", 0, "C")
	}
	f.SetXY(marginMM, y0+plotH+7)
	if gaps > 0 {
		f.SetFillColor(250, 215, 215)
		f.Rect(x0, f.GetY()+1, 4, 3, "F")
		f.SetX(x0 + 5)
		what := "days with no pack (gaps: nothing is known of them)"
		if gaps == 1 {
			what = "day with no pack (a gap: nothing is known of it)"
		}
		d.cell(w-5, 5, fmt.Sprintf("shaded: %d %s", gaps, what), "", 1, "L")
	} else {
		f.Ln(5)
	}
	f.Ln(2)
	d.setFont(regular, bodySize)
}

// KeepTogether starts a new page unless h mm are left on this one: for a
// heading and the chart that must follow it on the same page.
func (d *Doc) KeepTogether(h float64) {
	d.started()
	if d.f.GetY()+h > d.height-footerRoom-5 {
		d.f.AddPage()
	}
}
