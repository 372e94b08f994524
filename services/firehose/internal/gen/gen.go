// Package gen generates realistic synthetic posts: several languages,
// hashtags, mentions and links, with a controlled share that matches the
// demo rules. It is deterministic for a given seed, so load tests and the
// demo are reproducible.
package gen

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/demoimage"
)

// Options controls the mix of generated posts.
type Options struct {
	Seed uint64
	// MatchRate is the share of posts carrying a demo-rule phrase (0..1).
	MatchRate float64
	// ImageRate is the share of posts with an inline image (0..1), drawn
	// from the demo pictures that are not in the demo bank.
	ImageRate float64
	// BankedImageRate is the share of posts whose inline image is one of
	// the demo pictures in rules/banks (0..1): they match by hash. Keep it
	// well under the bank guard's share (0.5% of media per entry), or the
	// guard quarantines the demo entries as a suspected bad bank.
	BankedImageRate float64
	// BankedBurst is how many of the first posts each carry a copy of the
	// same demo-bank picture, PNG or JPEG (re-uploads of one known image),
	// so that a cluster is in the review queue at once. Keep it under the
	// bank guard's minimum of matches (20) before it judges a share.
	BankedBurst int
	// Platform names the source platform in every post.
	Platform string
	// Now is the clock for created_at.
	Now func() time.Time
}

// Generator makes posts. It is not safe for concurrent use.
type Generator struct {
	opts   Options
	rnd    *rand.Rand
	n      uint64
	images []encoded // lazily drawn demo pictures, PNG and JPEG of each
}

type encoded struct {
	mime string
	data []byte
}

// New returns a generator.
func New(opts Options) *Generator {
	if opts.Platform == "" {
		opts.Platform = "demo"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Generator{opts: opts, rnd: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))}
}

type lang struct {
	code      string
	sentences []string
	tags      []string
}

var langs = []lang{
	{"en", []string{
		"Just got back from the farmers market, the tomatoes this year are unreal",
		"Can anyone recommend a good mechanic near the station? Mine retired",
		"The match last night was painful to watch, that defence needs work",
		"Reading a great book about the history of the printing press",
		"Traffic on the ring road is terrible again this morning",
		"Our school is raising money for the new library, every bit helps",
		"Honestly the new update broke half my apps, anyone else?",
		"Sunset over the harbour tonight was something else",
		"Skill issue tbh, practice more and you'll get there",
		"Visiting Scunthorpe next week for my cousin's wedding",
	}, []string{"#monday", "#news", "#football", "#books", "#localnews"}},
	{"fr", []string{
		"Quelle belle journée pour une balade au bord de la Seine",
		"Le boulanger du coin a enfin rouvert, quel bonheur",
		"Quelqu'un a des conseils pour apprendre la guitare ?",
		"La réunion du conseil municipal est reportée à jeudi",
	}, []string{"#paris", "#actu", "#weekend"}},
	{"de", []string{
		"Der Zug hat schon wieder zwanzig Minuten Verspätung",
		"Heute endlich den Garten winterfest gemacht",
		"Wer kommt morgen mit zum Konzert im Stadtpark?",
	}, []string{"#berlin", "#bahn", "#wochenende"}},
	{"es", []string{
		"Qué partido tan increíble anoche, no me lo esperaba",
		"Buscando recomendaciones de restaurantes en Sevilla",
		"Hoy empieza el festival de cine, ¿alguien va?",
	}, []string{"#futbol", "#cine", "#viernes"}},
	{"ar", []string{
		"صباح الخير، الجو جميل اليوم في المدينة",
		"هل يعرف أحد مكتبة جيدة قريبة من الجامعة؟",
		"مبروك للفريق على الفوز الرائع الليلة",
	}, []string{"#صباح_الخير", "#كرة_القدم"}},
	{"ru", []string{
		"Сегодня наконец-то выпал первый снег",
		"Кто-нибудь знает хороший сервис по ремонту телефонов?",
		"Вчера были на концерте, было просто замечательно",
	}, []string{"#москва", "#новости"}},
	{"ja", []string{
		"今日は天気が良いので公園を散歩しました",
		"新しいカフェのケーキがとても美味しかった",
	}, []string{"#カフェ", "#散歩"}},
}

// demoPhrases match rules/demo.yaml; some are disguised the way real
// evaders write them, which the full keyword engine sees through.
var demoPhrases = []string{
	"we will attack the parade on saturday",
	"time to bomb the station, who is with us",
	"ATTACK THE checkpoint at dawn",
	"they should bomb the embassy",
}

// Next returns the next post.
func (g *Generator) Next() moderation.Post {
	g.n++
	l := langs[g.rnd.IntN(len(langs))]
	if g.rnd.Float64() < 0.5 { // most traffic is English
		l = langs[0]
	}
	text := l.sentences[g.rnd.IntN(len(l.sentences))]
	matching := g.rnd.Float64() < g.opts.MatchRate
	if matching {
		l = langs[0]
		text = demoPhrases[g.rnd.IntN(len(demoPhrases))]
	}
	if g.rnd.IntN(3) == 0 {
		text += " " + l.tags[g.rnd.IntN(len(l.tags))]
	}
	if g.rnd.IntN(5) == 0 {
		text = fmt.Sprintf("@user%d %s", g.rnd.IntN(5000), text)
	}
	id := fmt.Sprintf("%s-%d-%d", g.opts.Platform, g.opts.Seed, g.n)
	author := g.rnd.IntN(100000)
	var media []moderation.Media
	switch r := g.rnd.Float64(); {
	case g.n <= uint64(max(g.opts.BankedBurst, 0)):
		media = g.image(id, 0, true)
	case r < g.opts.BankedImageRate:
		media = g.image(id, g.rnd.IntN(demoimage.Count), true)
	case r < g.opts.BankedImageRate+g.opts.ImageRate:
		media = g.image(id, g.rnd.IntN(demoimage.Count), false)
	}
	return moderation.Post{
		Media:     media,
		V:         moderation.PostVersion,
		ID:        id,
		Platform:  g.opts.Platform,
		Author:    moderation.Author{ID: fmt.Sprintf("u%d", author), Handle: fmt.Sprintf("user%d", author)},
		Text:      strings.TrimSpace(text),
		Lang:      l.code,
		CreatedAt: g.opts.Now().UTC().Truncate(time.Millisecond),
		URL:       fmt.Sprintf("https://%s.example/p/%s", g.opts.Platform, id),
	}
}

// image returns one inline demo picture: picture i if it is banked as
// wanted, else the next one that is, alternately PNG and JPEG.
func (g *Generator) image(postID string, i int, banked bool) []moderation.Media {
	if g.images == nil {
		g.images = make([]encoded, 2*demoimage.Count)
		for k := range demoimage.Count {
			img := demoimage.Image(k)
			var p, j bytes.Buffer
			if err := png.Encode(&p, img); err != nil {
				panic(fmt.Sprintf("encoding demo picture %d: %v", k, err)) // in-memory encoding of a valid image
			}
			if err := jpeg.Encode(&j, img, &jpeg.Options{Quality: 85}); err != nil {
				panic(fmt.Sprintf("encoding demo picture %d: %v", k, err))
			}
			g.images[2*k] = encoded{"image/png", p.Bytes()}
			g.images[2*k+1] = encoded{"image/jpeg", j.Bytes()}
		}
	}
	for demoimage.Banked(i) != banked {
		i = (i + 1) % demoimage.Count
	}
	e := g.images[2*i+g.rnd.IntN(2)]
	return []moderation.Media{{ID: postID + "-m1", MIME: e.mime, Data: e.data}}
}
