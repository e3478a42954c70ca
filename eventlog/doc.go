// Package eventlog is Mosaic's durable append-only event log: the source of
// truth that every derived state is rebuilt from.
//
// A Log is a directory of segment files. Each segment is named after the
// sequence number of its first record (00000000000000000001.seg) and starts
// with an 8-byte header ("MOSLOG" and a 2-byte format version). Records
// follow back to back, each framed as
//
//	crc32c uint32 | length uint32 | seq uint64 | appended unix nanos int64 | payload
//
// little endian, the CRC32C (Castagnoli) covering everything after itself.
// Sequence numbers start at 1, are consecutive within and across segments and
// strictly increase across restarts. Append timestamps never decrease (a clock
// that steps back is held at the last value), which lets retention reason
// about whole segments without reading them.
//
// Writes: one writer goroutine does group commit. Every Append pending when
// the writer becomes free goes into one buffer, one write and one fdatasync
// (one per segment when the group crosses into a new segment); only then are
// the callers answered and the records made visible to readers.
// Segments rotate at Options.SegmentSize; a new segment is synced, then the
// directory is synced, before any record in it is acknowledged.
//
// Prepared segments: once the active segment is half full, a background
// goroutine makes the next segment file ahead of time (next-segment.tmp: a
// header, then zeros to the segment size, synced), and rotation renames it
// into place instead of creating a file in the writer's path. When the
// group commits are small the zeros are written, so that commits into the
// segment overwrite blocks that exist and their fdatasync writes data only,
// not a new file size and block allocation: on the disk this was measured
// on that made small commits a third faster. When they are large, and the
// disk's bandwidth is the limit, the blocks are only allocated (fallocate)
// rather than written twice. A segment that fills up is cut back to its
// last record in the same sync that ends it, and Close cuts the active one,
// so only the active segment of an open log (or of one that crashed) has
// zeros after its records, and Size counts records only. If no prepared
// file is ready the writer creates the segment as before.
//
// Recovery: Open reads the last segment whole and truncates a torn or corrupt
// tail at the last valid record (a crash mid-write leaves one), including the
// zeros of a prepared segment: no frame starts with zeros, since sequence
// numbers start at 1, so the first zero header marks the end (logged as a
// torn tail only if anything but zeros follows). A prepared file left by a
// crash is deleted, never reused. Older segments were complete and synced
// before the next one was created, so any damage in them is corruption,
// reported as a *CorruptError naming the file and offset when the damaged
// part is read (Read, Scan, Verify); Open checks only their headers and first
// records, so that opening a large log stays fast.
//
// Failures: a write or sync that fails with ENOSPC or EDQUOT fails that
// group's callers with an error wrapping ErrNoSpace, truncates the segment
// back to the last durable offset and leaves the log working: the next Append
// tries again. Any other write or sync failure is treated as the "fsyncgate"
// lesson teaches: after a failed fsync the kernel may have dropped the dirty
// pages, so the file's cached state can no longer be trusted. The log then
// truncates back to the last durable offset as well as it can and refuses all
// further appends with an error wrapping ErrFailed; reads keep working.
// Reopening the log (a restart) recovers from what is on disk.
package eventlog
