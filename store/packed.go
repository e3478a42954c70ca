package store

import (
	"cmp"
	"encoding/binary"
	"errors"
	"slices"
	"time"
)

// A profile's timeline and trait history are kept packed, many entries to
// one value, instead of one table row per entry: every event adds a
// timeline entry and most add trait writes, and a row keyed by profile
// lands on a random page of a large B-tree, which the database writes in
// full for every transaction that touches it. Appending an event's entries
// to the packed value of its profile costs one row per changed profile
// per checkpoint instead, and that row is written anyway.
//
// Each entry is encoded on its own, with no reference to the entries
// before it, so packed values concatenate: the stores append to them in
// SQL. An entry does not hold the profile ID; the value it is in does.
//
//	timeline entry: uvarint seq, varint time (µs since the Unix epoch),
//	                then type, name, source ID as uvarint length + bytes
//	trait entry:    uvarint seq, varint time, then group ID, name, value,
//	                source ID, message ID as uvarint length + bytes

// PackedLimit is the size past which a store moves a profile's packed
// value (its newest entries) into a row of its own and starts an empty
// one, so that the row rewritten at each checkpoint stays small.
const PackedLimit = 1024

// errPacked is returned for a packed value that does not decode: the
// stores write them only through AppendTimeline and AppendTraits.
var errPacked = errors.New("a packed timeline or trait history does not decode: the database was changed outside Mosaic; rebuild derived state with mosaic replay")

// AppendTimeline appends the packed form of rows to b. Text is cleaned
// (see CleanText).
func AppendTimeline(b []byte, rows ...TimelineRow) []byte {
	for i := range rows {
		b = appendTimeline(b, &rows[i], false)
	}
	return b
}

// appendTimeline appends r packed; clean says its text is known to need
// no cleaning.
func appendTimeline(b []byte, r *TimelineRow, clean bool) []byte {
	b = binary.AppendUvarint(b, r.Seq)
	b = binary.AppendVarint(b, r.Time.UnixMicro())
	b = appendTextAs(b, r.Type, clean)
	b = appendTextAs(b, r.Name, clean)
	return appendTextAs(b, r.SourceID, clean)
}

// AppendTraits appends the packed form of rows to b. Text is cleaned (see
// CleanText); values are kept byte for byte.
func AppendTraits(b []byte, rows ...TraitRow) []byte {
	for i := range rows {
		b = appendTrait(b, &rows[i], false)
	}
	return b
}

// appendTrait appends r packed; clean says its text is known to need no
// cleaning.
func appendTrait(b []byte, r *TraitRow, clean bool) []byte {
	b = binary.AppendUvarint(b, r.Seq)
	b = binary.AppendVarint(b, r.Time.UnixMicro())
	b = appendTextAs(b, r.GroupID, clean)
	b = appendTextAs(b, r.Name, clean)
	b = appendBytes(b, r.Value)
	b = appendTextAs(b, r.SourceID, clean)
	return appendTextAs(b, r.MessageID, clean)
}

// DecodeTimeline calls fn for each entry of a packed timeline of
// profileID, in the order they were appended.
func DecodeTimeline(b []byte, profileID uint64, fn func(TimelineRow)) error {
	d := unpacker{b: b}
	for len(d.b) > 0 {
		r := TimelineRow{ProfileID: profileID, Seq: d.uvarint()}
		r.Time = d.time()
		r.Type, r.Name, r.SourceID = d.text(), d.text(), d.text()
		if d.bad {
			return errPacked
		}
		fn(r)
	}
	return nil
}

// DecodeTraits calls fn for each entry of a packed trait history of
// profileID, in the order they were appended. Values share b's memory.
func DecodeTraits(b []byte, profileID uint64, fn func(TraitRow)) error {
	d := unpacker{b: b}
	for len(d.b) > 0 {
		r := TraitRow{ProfileID: profileID, Seq: d.uvarint()}
		r.Time = d.time()
		r.GroupID, r.Name = d.text(), d.text()
		r.Value = d.bytes()
		r.SourceID, r.MessageID = d.text(), d.text()
		if d.bad {
			return errPacked
		}
		fn(r)
	}
	return nil
}

// appendTextAs appends s, cleaned unless clean says it needs no cleaning.
func appendTextAs(b []byte, s string, clean bool) []byte {
	if !clean {
		s = CleanText(s)
	}
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// unpacker reads a packed value; bad records the first error, after which
// every read returns a zero value.
type unpacker struct {
	b   []byte
	bad bool
}

func (d *unpacker) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *unpacker) time() time.Time {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return time.Time{}
	}
	d.b = d.b[n:]
	return time.UnixMicro(v).UTC()
}

func (d *unpacker) bytes() []byte {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *unpacker) text() string { return string(d.bytes()) }

func (d *unpacker) fail() { d.bad, d.b = true, nil }

// History gathers what a store holds of one profile's timeline or of one
// of its traits, from packed values and from rows of the tables the
// stores kept before (read until a replay empties them), and answers a
// read in the contract's order. The first entry added for a key wins:
// "an entry the store has already is kept".
type History struct {
	timeline []TimelineRow
	traits   []TraitRow
	seen     map[historyKey]bool
}

type historyKey struct {
	seq        uint64
	time       int64
	group, key string
}

// AddTimeline adds timeline entries.
func (h *History) AddTimeline(rows ...TimelineRow) {
	for _, r := range rows {
		if h.first(historyKey{seq: r.Seq}) {
			h.timeline = append(h.timeline, r)
		}
	}
}

// AddPackedTimeline adds the entries of a packed timeline of profileID.
func (h *History) AddPackedTimeline(b []byte, profileID uint64) error {
	return DecodeTimeline(b, profileID, func(r TimelineRow) { h.AddTimeline(r) })
}

// AddTraits adds trait writes of the trait named groupID/name; others
// are left out.
func (h *History) AddTraits(groupID, name string, rows ...TraitRow) {
	for _, r := range rows {
		if r.GroupID == groupID && r.Name == name &&
			h.first(historyKey{seq: r.Seq, time: r.Time.UnixMicro(), group: r.GroupID, key: r.Name}) {
			h.traits = append(h.traits, r)
		}
	}
}

// AddPackedTraits adds the writes of the trait named groupID/name from a
// packed trait history of profileID. Values are copied.
func (h *History) AddPackedTraits(b []byte, profileID uint64, groupID, name string) error {
	return DecodeTraits(b, profileID, func(r TraitRow) {
		if r.GroupID == groupID && r.Name == name {
			r.Value = append([]byte{}, r.Value...)
			h.AddTraits(groupID, name, r)
		}
	})
}

func (h *History) first(k historyKey) bool {
	if h.seen == nil {
		h.seen = map[historyKey]bool{}
	}
	if h.seen[k] {
		return false
	}
	h.seen[k] = true
	return true
}

// newerFirst orders by (time, seq), newest first. Times compare as the
// stores keep them, in microseconds.
func newerFirst(at, bt time.Time, as, bs uint64) int {
	if c := cmp.Compare(bt.UnixMicro(), at.UnixMicro()); c != 0 {
		return c
	}
	switch {
	case as > bs:
		return -1
	case as < bs:
		return 1
	}
	return 0
}

// Timeline returns the timeline newest first by (Time, Seq): entries
// strictly older than (before, beforeSeq) when before is not zero, at
// most limit.
func (h *History) Timeline(before time.Time, beforeSeq uint64, limit int) []TimelineRow {
	out := make([]TimelineRow, 0, min(limit, len(h.timeline)))
	for _, r := range h.timeline {
		if before.IsZero() || newerFirst(r.Time, before, r.Seq, beforeSeq) > 0 {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b TimelineRow) int { return newerFirst(a.Time, b.Time, a.Seq, b.Seq) })
	return out[:min(limit, len(out))]
}

// Traits returns the trait's writes newest first by (Time, Seq), at most
// limit.
func (h *History) Traits(limit int) []TraitRow {
	out := slices.Clone(h.traits)
	slices.SortFunc(out, func(a, b TraitRow) int { return newerFirst(a.Time, b.Time, a.Seq, b.Seq) })
	return out[:min(limit, len(out))]
}

// PackedProfile is what a store upserts for one profile of a batch: its
// state (nil when the batch has none: keep the stored one) and its new timeline and trait entries,
// packed, to append to what it has.
type PackedProfile struct {
	ID               uint64
	Data             []byte
	Timeline, Traits []byte
}

// PackBatch groups b's profiles, timeline rows and trait rows by profile:
// one PackedProfile per ID, in the order IDs first appear, with the last
// state b lists for it and its rows packed in b's order.
//
// It measures every profile's packed values first and packs them all
// into one buffer of that size: appending to a value per profile grew
// each several times, a third of the cost.
func PackBatch(b *ProfileBatch) []PackedProfile {
	at := make(map[uint64]int, len(b.Profiles))
	out := make([]PackedProfile, 0, len(b.Profiles))
	get := func(id uint64) int {
		i, ok := at[id]
		if !ok {
			i = len(out)
			at[id] = i
			out = append(out, PackedProfile{ID: id})
		}
		return i
	}
	for _, p := range b.Profiles {
		out[get(p.ID)].Data = nonNilBytes(p.Data)
	}
	// The index of each row's profile, complemented when its text needs
	// cleaning: measuring a row finds out, and packing it need not look
	// again. And the size of each packed value, kept in Timeline and
	// Traits as zero-length slices until packing.
	idx := make([]int32, len(b.Timeline)+len(b.Traits))
	tl, tr := make([]int, 0, len(b.Profiles)), make([]int, 0, len(b.Profiles))
	grow := func(sizes []int, i, n int) []int {
		for len(sizes) <= i {
			sizes = append(sizes, 0)
		}
		sizes[i] += n
		return sizes
	}
	total := 0
	for j := range b.Timeline {
		r := &b.Timeline[j]
		i := get(r.ProfileID)
		n, clean := timelineSize(r)
		idx[j] = mark(i, clean)
		tl, total = grow(tl, i, n), total+n
	}
	for j := range b.Traits {
		r := &b.Traits[j]
		i := get(r.ProfileID)
		n, clean := traitSize(r)
		idx[len(b.Timeline)+j] = mark(i, clean)
		tr, total = grow(tr, i, n), total+n
	}
	buf := make([]byte, 0, total)
	carve := func(n int) []byte {
		v := buf[len(buf) : len(buf) : len(buf)+n]
		buf = buf[:len(buf)+n]
		return v
	}
	for i := range out {
		if i < len(tl) && tl[i] > 0 {
			out[i].Timeline = carve(tl[i])
		}
		if i < len(tr) && tr[i] > 0 {
			out[i].Traits = carve(tr[i])
		}
	}
	for j := range b.Timeline {
		i, clean := unmark(idx[j])
		u := &out[i]
		u.Timeline = appendTimeline(u.Timeline, &b.Timeline[j], clean)
	}
	for j := range b.Traits {
		i, clean := unmark(idx[len(b.Timeline)+j])
		u := &out[i]
		u.Traits = appendTrait(u.Traits, &b.Traits[j], clean)
	}
	return out
}

func mark(i int, clean bool) int32 {
	if clean {
		return int32(i)
	}
	return ^int32(i)
}

func unmark(m int32) (i int, clean bool) {
	if m < 0 {
		return int(^m), false
	}
	return int(m), true
}

// timelineSize returns the size of r packed, and whether its text needs
// no cleaning.
func timelineSize(r *TimelineRow) (int, bool) {
	n0, c0 := textSize(r.Type)
	n1, c1 := textSize(r.Name)
	n2, c2 := textSize(r.SourceID)
	return uvarintSize(r.Seq) + varintSize(r.Time.UnixMicro()) + n0 + n1 + n2, c0 && c1 && c2
}

// traitSize returns the size of r packed, and whether its text needs no
// cleaning.
func traitSize(r *TraitRow) (int, bool) {
	n0, c0 := textSize(r.GroupID)
	n1, c1 := textSize(r.Name)
	n2, c2 := textSize(r.SourceID)
	n3, c3 := textSize(r.MessageID)
	return uvarintSize(r.Seq) + varintSize(r.Time.UnixMicro()) + n0 + n1 +
		uvarintSize(uint64(len(r.Value))) + len(r.Value) + n2 + n3, c0 && c1 && c2 && c3
}

// textSize returns the size of s cleaned and packed, and whether
// cleaning leaves it as it is (see CleanText).
func textSize(s string) (int, bool) {
	clean := plainText(s)
	n := len(s)
	if !clean {
		n = len(CleanText(s))
	}
	return uvarintSize(uint64(n)) + n, clean
}

func uvarintSize(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

func varintSize(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return uvarintSize(u)
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// TimelineMatcher collects the timeline entries a TimelineSeqs call asks
// for, from packed values and rows, and hands them out in position order,
// each (profile, position) once.
type TimelineMatcher struct {
	names map[string]bool // nil: every entry
	upto  uint64
	found []posting
}

type posting struct{ profile, seq uint64 }

// Init sets what matches: entries at or below upto, of type "track" named
// one of names, or every entry with names nil.
func (m *TimelineMatcher) Init(names []string, upto uint64) {
	m.upto = upto
	if names != nil {
		m.names = make(map[string]bool, len(names))
		for _, n := range names {
			m.names[CleanText(n)] = true
		}
	}
}

// Add adds r if it matches.
func (m *TimelineMatcher) Add(r TimelineRow) {
	if r.Seq > m.upto || (m.names != nil && (r.Type != "track" || !m.names[r.Name])) {
		return
	}
	m.found = append(m.found, posting{r.ProfileID, r.Seq})
}

// AddPacked adds the matching entries of a packed timeline of profileID.
// It reads them in place: a backfill reads every profile's timeline.
func (m *TimelineMatcher) AddPacked(b []byte, profileID uint64) error {
	d := unpacker{b: b}
	for len(d.b) > 0 {
		seq := d.uvarint()
		d.time()
		typ, name := d.bytes(), d.bytes()
		d.bytes() // source ID
		if d.bad {
			return errPacked
		}
		if seq > m.upto || (m.names != nil && (string(typ) != "track" || !m.names[string(name)])) {
			continue
		}
		m.found = append(m.found, posting{profileID, seq})
	}
	return nil
}

// Each calls fn for each entry found, by position, until fn returns an
// error, which it then returns.
func (m *TimelineMatcher) Each(fn func(profileID, seq uint64) error) error {
	slices.SortFunc(m.found, func(a, b posting) int {
		if a.seq != b.seq {
			return cmp.Compare(a.seq, b.seq)
		}
		return cmp.Compare(a.profile, b.profile)
	})
	for i, p := range m.found {
		if i > 0 && p == m.found[i-1] {
			continue
		}
		if err := fn(p.profile, p.seq); err != nil {
			return err
		}
	}
	return nil
}

// AddTraitNames adds to names the name of every profile trait (group ID
// "") a packed trait history holds, reading them in place.
func AddTraitNames(b []byte, names map[string]bool) error {
	d := unpacker{b: b}
	for len(d.b) > 0 {
		d.uvarint()
		d.time()
		group, name := d.bytes(), d.bytes()
		d.bytes()
		d.bytes()
		d.bytes()
		if d.bad {
			return errPacked
		}
		if len(group) == 0 && !names[string(name)] {
			names[string(name)] = true
		}
	}
	return nil
}

// CountPacked returns how many entries a packed value of kind holds (0 a
// timeline, 1 a trait history): what erasing it counts as rows deleted.
func CountPacked(b []byte, kind int) (int64, error) {
	var n int64
	var err error
	if kind == 0 {
		err = DecodeTimeline(b, 0, func(TimelineRow) { n++ })
	} else {
		err = DecodeTraits(b, 0, func(TraitRow) { n++ })
	}
	return n, err
}
