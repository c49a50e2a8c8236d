package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// htmlForm is a form as a browser would submit it: where, how, and the
// successful controls with their current values, in document order.
type htmlForm struct {
	Action *url.URL
	Method string // http.MethodGet or http.MethodPost
	Fields []formField
}

type formField struct {
	Name  string
	Value string
}

// has reports whether the form has a control called name.
func (f htmlForm) has(name string) bool {
	for _, field := range f.Fields {
		if field.Name == name {
			return true
		}
	}
	return false
}

// values is the form data with the controls named in fill set to the given
// values and every other control (hidden fields, CSRF tokens) kept as is.
func (f htmlForm) values(fill map[string]string) url.Values {
	v := url.Values{}
	filled := map[string]bool{}
	for _, field := range f.Fields {
		value, ok := fill[field.Name]
		if !ok {
			v.Add(field.Name, field.Value)
			continue
		}
		if !filled[field.Name] {
			filled[field.Name] = true
			v.Add(field.Name, value)
		}
	}
	return v
}

// request builds the submission of the form with fill applied.
func (f htmlForm) request(ctx context.Context, fill map[string]string) (*http.Request, error) {
	data := f.values(fill).Encode()
	if f.Method == http.MethodPost {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.Action.String(), strings.NewReader(data))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	}
	target := *f.Action
	target.RawQuery = data
	target.Fragment = ""
	return http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
}

// findForm returns the first form that has a control called field.
func findForm(forms []htmlForm, field string) (htmlForm, bool) {
	for _, f := range forms {
		if f.has(field) {
			return f, true
		}
	}
	return htmlForm{}, false
}

// parseForms reads every form of an HTML page fetched from pageURL. It keeps
// the controls a browser would send when the user presses Enter: enabled
// named inputs, checked boxes, textareas, the selected option of each select,
// and the form's first submit button.
func parseForms(body io.Reader, pageURL *url.URL) ([]htmlForm, error) {
	p := formParser{base: pageURL, page: pageURL}
	z := html.NewTokenizer(body)
	for {
		switch z.Next() {
		case html.ErrorToken:
			if err := z.Err(); !errors.Is(err, io.EOF) {
				return nil, err
			}
			p.endForm()
			return p.forms, nil
		case html.StartTagToken, html.SelfClosingTagToken:
			p.startTag(z.Token())
		case html.EndTagToken:
			p.endTag(z.Token())
		case html.TextToken:
			p.text(string(z.Text()))
		}
	}
}

// formParser follows the token stream; forms do not nest in HTML, so there is
// at most one open form, textarea and select at a time.
type formParser struct {
	page, base *url.URL
	baseSeen   bool
	forms      []htmlForm

	form       *openForm
	textarea   *formField
	selectBox  *openSelect
	openOption *selectOption
}

type openForm struct {
	action, method string
	fields         []formField
	submitSeen     bool
}

type openSelect struct {
	name     string
	disabled bool
	options  []*selectOption
}

type selectOption struct {
	value    string
	hasValue bool
	text     string
	selected bool
}

func (p *formParser) startTag(t html.Token) {
	attrs := attrMap(t.Attr)
	if t.Data == "base" {
		if href, ok := attrs["href"]; ok && !p.baseSeen {
			p.baseSeen = true
			if u, err := p.page.Parse(href); err == nil {
				p.base = u
			}
		}
		return
	}
	if t.Data == "form" {
		if p.form == nil { // a nested form start tag is ignored, as browsers do
			p.form = &openForm{action: attrs["action"], method: attrs["method"]}
		}
		return
	}
	if p.form == nil {
		return
	}
	name, named := attrs["name"]
	_, disabled := attrs["disabled"]
	switch t.Data {
	case "input":
		if named && !disabled {
			p.input(name, attrs)
		}
	case "button":
		kind := strings.ToLower(attrs["type"])
		if kind == "" || kind == "submit" {
			p.submitButton(name, named && !disabled, attrs["value"])
		}
	case "textarea":
		if named && !disabled {
			p.textarea = &formField{Name: name}
		}
	case "select":
		p.selectBox = &openSelect{name: name, disabled: disabled || !named}
	case "option":
		if p.selectBox != nil {
			value, hasValue := attrs["value"]
			_, selected := attrs["selected"]
			p.openOption = &selectOption{value: value, hasValue: hasValue, selected: selected}
			p.selectBox.options = append(p.selectBox.options, p.openOption)
		}
	}
}

func (p *formParser) input(name string, attrs map[string]string) {
	value := attrs["value"]
	switch strings.ToLower(attrs["type"]) {
	case "checkbox", "radio":
		if _, checked := attrs["checked"]; checked {
			if _, ok := attrs["value"]; !ok {
				value = "on"
			}
			p.add(name, value)
		}
	case "submit":
		p.submitButton(name, true, value)
	case "button", "reset", "file", "image":
		// Not sent when the form is submitted with Enter.
	default:
		p.add(name, value)
	}
}

// submitButton sends the first submit button's name and value, the one a
// browser uses when the user presses Enter.
func (p *formParser) submitButton(name string, send bool, value string) {
	if p.form.submitSeen {
		return
	}
	p.form.submitSeen = true
	if send && name != "" {
		p.add(name, value)
	}
}

func (p *formParser) add(name, value string) {
	p.form.fields = append(p.form.fields, formField{Name: name, Value: value})
}

func (p *formParser) text(s string) {
	switch {
	case p.textarea != nil:
		p.textarea.Value += s
	case p.openOption != nil:
		p.openOption.text += s
	}
}

func (p *formParser) endTag(t html.Token) {
	switch t.Data {
	case "form":
		p.endForm()
	case "textarea":
		if p.textarea != nil && p.form != nil {
			// Browsers drop the newline right after <textarea>.
			p.textarea.Value = strings.TrimPrefix(p.textarea.Value, "\n")
			p.add(p.textarea.Name, p.textarea.Value)
		}
		p.textarea = nil
	case "option":
		p.openOption = nil
	case "select":
		p.endSelect()
	}
}

func (p *formParser) endSelect() {
	s := p.selectBox
	p.selectBox, p.openOption = nil, nil
	if s == nil || s.disabled || len(s.options) == 0 || p.form == nil {
		return
	}
	chosen := s.options[0]
	for _, o := range s.options {
		if o.selected {
			chosen = o
			break
		}
	}
	value := chosen.value
	if !chosen.hasValue {
		value = strings.Join(strings.Fields(chosen.text), " ")
	}
	p.add(s.name, value)
}

func (p *formParser) endForm() {
	if p.form == nil {
		return
	}
	f := p.form
	p.form, p.textarea, p.selectBox, p.openOption = nil, nil, nil, nil

	// An empty action submits to the page itself, whatever <base> says.
	action := p.page
	if strings.TrimSpace(f.action) != "" {
		u, err := p.base.Parse(strings.TrimSpace(f.action))
		if err != nil {
			return // a form that cannot be submitted is no form for us
		}
		action = u
	}
	method := http.MethodGet
	if strings.EqualFold(f.method, "post") {
		method = http.MethodPost
	}
	p.forms = append(p.forms, htmlForm{Action: action, Method: method, Fields: f.fields})
}

func attrMap(attrs []html.Attribute) map[string]string {
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		if _, dup := m[a.Key]; !dup { // the first of duplicate attributes wins
			m[a.Key] = a.Val
		}
	}
	return m
}
