package hashbank

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/demoimage"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
)

func flipH(img image.Image) image.Image { return imagehash.Orient(img, 2) }

func TestSetMatchThresholdsAndLabels(t *testing.T) {
	h := imagehash.NewHasher()
	img := demoimage.Image(1)
	r := h.PDQ(img)
	p, _ := imagehash.PHash(img)
	noDih := false
	banks := []Bank{
		{Name: "gifct", HashType: "pdq", Severity: moderation.SeverityHigh, Entries: []Entry{
			{ID: "e1", Hash: r.Hash.String(), Category: "violent_extremism"},
			{ID: "far", Hash: strings.Repeat("0", 64)},
		}},
		{Name: "strict", HashType: "pdq", Threshold: 1, Dihedral: &noDih, Entries: []Entry{{ID: "s1", Hash: r.Hash.String()}}},
		{Name: "ph", HashType: "phash", Entries: []Entry{{ID: "p1", Hash: p.String()}}},
	}
	set, err := NewSet(banks)
	if err != nil {
		t.Fatal(err)
	}
	if o := set.HashOptions(); !o.Dihedral || len(o.Types) != 2 {
		t.Fatalf("HashOptions %+v", o)
	}
	d := imagehash.Decoded{Image: img, Orientation: 1}
	ms, _, err := set.MatchImage(h, d, "media-1")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]moderation.Match{}
	for _, m := range ms {
		got[m.Bank+"/"+m.EntryID] = m
	}
	if len(got) != 3 {
		t.Fatalf("matches %+v", ms)
	}
	m := got["gifct/e1"]
	if m.Category != "violent_extremism" || m.Severity != moderation.SeverityHigh || m.HashType != "pdq" ||
		m.Distance != 0 || m.MediaID != "media-1" || m.Hash != r.Hash.String() {
		t.Errorf("gifct match %+v", m)
	}
	if m := got["ph/p1"]; m.Category != DefaultCategory || m.Severity != moderation.SeverityCritical || m.Hash != p.String() {
		t.Errorf("phash match %+v", m)
	}

	// A mirrored copy matches the dihedral bank, not the upright-only one.
	ms, _, _ = set.MatchImage(h, imagehash.Decoded{Image: flipH(img), Orientation: 1}, "m2")
	var banksHit []string
	for _, m := range ms {
		banksHit = append(banksHit, m.Bank)
	}
	if strings.Join(banksHit, ",") != "gifct" {
		t.Errorf("mirrored copy matched %v, want [gifct]", banksHit)
	}

	// Low-quality PDQ hashes are not matched.
	flat := image.NewGray(image.Rect(0, 0, 100, 100))
	ms, hsFlat, _ := set.MatchImage(h, imagehash.Decoded{Image: flat, Orientation: 1}, "m3")
	if hsFlat.PDQ.Quality >= 50 || len(ms) != 0 {
		t.Errorf("flat image quality %d matched %v", hsFlat.PDQ.Quality, ms)
	}
}

func TestBankValidation(t *testing.T) {
	pdq := strings.Repeat("a", 64)
	for _, b := range []Bank{
		{Name: "Bad Name", HashType: "pdq"},
		{Name: "x", HashType: "md5"},
		{Name: "x", HashType: "pdq", Threshold: 128},
		{Name: "x", HashType: "phash", Threshold: -1},
		{Name: "x", HashType: "pdq", Entries: []Entry{{ID: "", Hash: pdq}}},
		{Name: "x", HashType: "pdq", Entries: []Entry{{ID: "a", Hash: pdq}, {ID: "a", Hash: pdq}}},
		{Name: "x", HashType: "pdq", Entries: []Entry{{ID: "a", Hash: "abc"}}},
		{Name: "x", HashType: "phash", Entries: []Entry{{ID: "a", Hash: pdq}}},
		{Name: "x", HashType: "phash", Severity: 9},
	} {
		if err := b.Validate(); !errors.Is(err, moderation.ErrInvalid) {
			t.Errorf("%+v: %v", b, err)
		}
	}
	// A row stored before entry text was checked still loads: one bad
	// entry must not switch off every stored bank on the workers.
	if err := (Bank{Name: "x", HashType: "pdq", Entries: []Entry{{ID: "a", Hash: pdq, Source: "list\t2024"}}}).Validate(); err != nil {
		t.Errorf("a stored entry with a tab in its source: %v, want it loaded", err)
	}
	if err := (Bank{Name: "x"}).Validate(); !errors.Is(err, moderation.ErrInvalid) || !strings.Contains(err.Error(), "'# type: pdq' line") {
		t.Errorf("bank without a type: %v, want a hint at the # type: line", err)
	}
	if _, err := NewSet([]Bank{{Name: "a", HashType: "pdq"}, {Name: "a", HashType: "phash"}}); !errors.Is(err, moderation.ErrInvalid) {
		t.Errorf("duplicate bank names: %v", err)
	}
}

func TestParseFormats(t *testing.T) {
	pdq := "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	csvText := "# a comment\n# type: pdq\n# threshold: 20\n# severity: high\n# dihedral: false\nid,hash,category,external_id\nb1," +
		strings.ToUpper(pdq) + ",extremism,ext-9\n"
	b, err := ParseCSV(strings.NewReader(csvText), "bridge")
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "bridge" || b.Threshold != 20 || b.Severity != moderation.SeverityHigh || *b.Dihedral ||
		len(b.Entries) != 1 || b.Entries[0].Hash != pdq || b.Entries[0].ExternalID != "ext-9" || b.MinQuality != 50 {
		t.Errorf("csv bank %+v", b)
	}
	jl := `{"bank":"jb","type":"phash","category":"csam_adjacent"}` + "\n\n" + `{"id":"p","hash":"00000000000000ff","source":"partner"}` + "\n"
	b, err = ParseJSONL(strings.NewReader(jl), "file")
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "jb" || b.Threshold != 10 || b.Category != "csam_adjacent" || b.Entries[0].Source != "partner" {
		t.Errorf("jsonl bank %+v", b)
	}
	for _, bad := range []string{
		"# type: pdq\nid,category\nx,y\n",
		"# type: pdq\n# threshold: many\nid,hash\n",
		"# type: pdq\n# severity: apocalyptic\nid,hash\n",
		"# type: pdq\nid,hash\n\"unterminated,x\n",
	} {
		if _, err := ParseCSV(strings.NewReader(bad), "x"); !errors.Is(err, moderation.ErrInvalid) {
			t.Errorf("csv %q: %v", bad, err)
		}
	}
	for _, bad := range []string{
		`{"type":"pdq","bogus":1}`,
		`{"type":"phash"}` + "\n" + `{"id":"a","hash":"zz"}`,
		`not json`,
	} {
		if _, err := ParseJSONL(strings.NewReader(bad), "x"); !errors.Is(err, moderation.ErrInvalid) {
			t.Errorf("jsonl %q: %v", bad, err)
		}
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func TestGuardQuarantinesNoisyEntry(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var alerts []QuarantineState
	g := NewGuard(clk, GuardOptions{Window: time.Hour, Buckets: 6, MaxShare: 0.01, MinMatches: 10,
		OnQuarantine: func(q QuarantineState) { alerts = append(alerts, q) }})
	bad := moderation.Match{Bank: "b", EntryID: "meme", HashType: "pdq"}
	good := moderation.Match{Bank: "b", EntryID: "real", HashType: "pdq"}
	kw := moderation.Match{RuleID: "r1"}

	// 2,000 media: "real" matches 5 (0.25%), "meme" every 20th (5%).
	suppressed := 0
	for i := 0; i < 2000; i++ {
		var ms []moderation.Match
		if i%20 == 0 {
			ms = append(ms, bad, kw)
		}
		if i%400 == 0 {
			ms = append(ms, good)
		}
		kept := g.Observe(ms)
		for _, m := range ms {
			if m.EntryID == "meme" && !containsEntry(kept, "meme") {
				suppressed++
			}
		}
		if len(ms) > 0 && !containsRule(kept, "r1") {
			t.Fatal("keyword match dropped")
		}
		clk.t = clk.t.Add(time.Second)
	}
	if !g.IsQuarantined("b", "meme") || g.IsQuarantined("b", "real") {
		t.Fatalf("quarantined: %+v", g.Quarantined())
	}
	if len(alerts) != 1 || alerts[0].EntryID != "meme" || suppressed == 0 {
		t.Fatalf("alerts %+v suppressed %d", alerts, suppressed)
	}
	q := g.Quarantined()
	if len(q) != 1 || q[0].Suppressed < 50 {
		t.Errorf("state %+v", q)
	}
	// A rule engineer confirms: matches flow again and the share rule no
	// longer applies to that entry.
	if !g.Confirm("b", "meme") {
		t.Fatal("Confirm: was not quarantined")
	}
	for i := 0; i < 100; i++ {
		if kept := g.Observe([]moderation.Match{bad}); len(kept) != 1 {
			t.Fatal("confirmed entry still suppressed")
		}
	}
	// Manual quarantine.
	g.Quarantine("b", "real")
	if kept := g.Observe([]moderation.Match{good}); len(kept) != 0 {
		t.Fatal("manually quarantined entry kept")
	}
	if q := g.Quarantined(); len(q) != 1 || !q[0].Manual {
		t.Errorf("state %+v", q)
	}
}

func TestGuardWindowExpires(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	g := NewGuard(clk, GuardOptions{Window: time.Hour, Buckets: 4, MaxShare: 0.5, MinMatches: 5})
	m := moderation.Match{Bank: "b", EntryID: "e"}
	// 4 matches out of 4 media: below MinMatches.
	for range 4 {
		g.Observe([]moderation.Match{m})
	}
	clk.t = clk.t.Add(2 * time.Hour) // the window forgets them
	g.Observe([]moderation.Match{m})
	if g.IsQuarantined("b", "e") {
		t.Fatal("old matches counted after the window")
	}
	for range 4 {
		g.Observe([]moderation.Match{m})
	}
	if !g.IsQuarantined("b", "e") {
		t.Fatal("5 of 5 in the window did not quarantine")
	}
}

func containsEntry(ms []moderation.Match, id string) bool {
	for _, m := range ms {
		if m.EntryID == id {
			return true
		}
	}
	return false
}

func containsRule(ms []moderation.Match, id string) bool {
	for _, m := range ms {
		if m.RuleID == id {
			return true
		}
	}
	return false
}

// TestMatchImageManyMatches: an image within the threshold of thousands of
// entries, with and without its borders, gets one match per entry. The
// bordered and trimmed matches used to be merged by a search of the first
// list per match: 1.3 s per image against a bank of 20,000 such entries.
func TestMatchImageManyMatches(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 256, 256))
	for y := 30; y < 226; y++ {
		for x := 30; x < 226; x++ {
			img.Pix[y*img.Stride+x] = uint8((x/20*37 + y/20*91) % 256) // inside a black border
		}
	}
	d := imagehash.Decoded{Image: img, Orientation: 1}
	td, ok := imagehash.TrimBorders(d)
	if !ok {
		t.Fatal("the border is not trimmed")
	}
	h := imagehash.NewHasher()
	opt := imagehash.HashOptions{Types: []string{imagehash.TypeAHash}}
	whole, _ := h.HashAll(d, opt)
	trimmed, _ := h.HashAll(td, opt)
	const n = 20000
	b := Bank{Name: "b", HashType: imagehash.TypeAHash, Entries: make([]Entry, n)}
	for i := range b.Entries {
		hx := whole.Hex(imagehash.TypeAHash)
		if i%2 == 1 {
			hx = trimmed.Hex(imagehash.TypeAHash)
		}
		b.Entries[i] = Entry{ID: fmt.Sprintf("e%05d", i), Hash: hx}
	}
	set, err := NewSet([]Bank{b})
	if err != nil {
		t.Fatal(err)
	}
	ms, _, err := set.MatchImage(h, d, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != n {
		t.Fatalf("%d matches, want %d", len(ms), n)
	}
	for i, m := range ms {
		if want := fmt.Sprintf("e%05d", i); m.EntryID != want || m.Distance != 0 {
			t.Fatalf("match %d: entry %s at %d, want %s at 0", i, m.EntryID, m.Distance, want)
		}
	}
}

// TestEntryTextChecked: bank files refuse entry ids and labels Postgres
// text refuses, or that cannot name a cluster or be shown, naming the
// line; printable UTF-8 up to 256 bytes is fine.
func TestEntryTextChecked(t *testing.T) {
	pdq := strings.Repeat("a", 64)
	for _, e := range []Entry{
		{ID: "a\x00b", Hash: pdq}, {ID: "a\nb", Hash: pdq}, {ID: strings.Repeat("i", 257), Hash: pdq},
		{ID: "a", Hash: pdq, Source: "\xff"}, {ID: "a", Hash: pdq, Category: "t\x00c"}, {ID: "a", Hash: pdq, ExternalID: "e\x01"},
	} {
		if err := CheckEntryText(e); err == nil {
			t.Errorf("%+q: no error", e)
		}
		if !utf8.ValidString(e.Source) {
			continue // JSON carries no invalid UTF-8 (the decoder makes it U+FFFD)
		}
		line, _ := json.Marshal(map[string]string{"id": e.ID, "hash": e.Hash, "category": e.Category, "source": e.Source, "external_id": e.ExternalID})
		_, err := ParseJSONL(strings.NewReader("{\"bank\":\"x\",\"type\":\"pdq\"}\n"+string(line)+"\n"), "x")
		var le *LineError
		if !errors.As(err, &le) || le.Line != 2 || !errors.Is(err, moderation.ErrInvalid) {
			t.Errorf("JSON lines with %+q: %v, want line 2 refused", e, err)
		}
	}
	_, err := ParseCSV(strings.NewReader("# type: pdq\nid,hash,source\ng-1,"+pdq+",ok\ng-2,"+pdq+",\"a\x01b\"\n"), "x")
	var le *LineError
	if !errors.As(err, &le) || le.Line != 4 || !strings.Contains(err.Error(), "printable UTF-8") {
		t.Errorf("CSV with a control character on line 4: %v", err)
	}
	if err := CheckEntryText(Entry{ID: "gifct:ü-1", Source: "Tech Against Terrorism", ExternalID: strings.Repeat("e", 256)}); err != nil {
		t.Errorf("printable UTF-8 labels: %v", err)
	}
}
