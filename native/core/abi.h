// abi.h — every constant and shared-memory layout that native code and lib/ must agree on,
// defined once. Node-free C++20 (the native unit tests include it too).
//
// scripts/gen-abi.mjs reads the block between the `abi:begin` and `abi:end` markers and writes
// lib/internal/abi.ts from it (`npm run gen:abi`; test/abi.test.js fails when lib/internal/abi.ts is stale). The
// block's syntax is deliberately small, one item per line:
//   /// doc             JSDoc for the next item (or enum member)
//   inline constexpr uint32_t kName = 123;
//   enum class Name : type {
//     Member = 123,     // trailing comments are allowed (and ignored)
//   };
// Values are decimal integer literals. Enums become frozen `{ Member: value }` objects in
// TypeScript; constants become `export const kName = value`. Bump kAbiVersion on any change
// to a value or layout here: the addon reports it at load (abi() in addon.cc) and
// lib/internal/native.ts refuses to run against an addon built from a different layout.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace weft::abi {

// abi:begin

/// Version of this layout; lib/internal/native.ts compares it with the addon's at import.
inline constexpr uint32_t kAbiVersion = 6;

/// Result codes of native calls (status slot Code, and the code of an async result).
enum class Code : int32_t {
  Ok = 0,
  WouldBlock = 1,
  Closed = 2,
  Timeout = 3,
  Stopped = 4,
  Pending = 5,
  Canceled = 6,
  Deadlock = 7,
  Misuse = 8,
  Retry = 9,
};

/// Kinds of shared objects (kindOf()).
enum class Kind : uint8_t {
  Channel = 1,
  Timer = 2,
  Context = 3,
  Mutex = 4,
  RWMutex = 5,
  WaitGroup = 6,
  Semaphore = 7,
  Cond = 8,
  Once = 9,
  Atomic = 10,
  Value = 11,
  Progress = 12,
  AtomicBool = 13,
  Ticker = 14,
  Payload = 15,  // a SharedArrayBuffer's memory or a compiled WebAssembly.Module (bind_payload.cc)
  RateLimiter = 16,
  Heartbeat = 17,  // an AtomicCell holding the CLOCK_MONOTONIC ns of the last beat (lib/patterns/heartbeat.ts)
};

/// Element types of a channel (chanNew(capacity, elem), chanInfo()[1]).
enum class Elem : uint8_t {
  Structured = 0,
  F64 = 1,
  I32 = 2,
  I64 = 3,
  Bool = 4,
};

/// Owner tag of a channel weft owns (chanInfo()[3]); such a channel is receive-only for users.
enum class Owner : uint8_t {
  None = 0,
  Timer = 1,
  Ticker = 2,
  Context = 3,
};

/// Direction tag a message carries with a channel view (WeftObject._tag()).
enum class ViewTag : int32_t {
  None = 0,
  Send = 1,
  Recv = 2,
};

/// Mode argument of select().
enum class SelectMode : int32_t {
  Try = 0,
  Block = 1,
  Async = 2,
};

/// Op argument of atomOp().
enum class AtomOp : int32_t {
  Load = 0,
  Store = 1,
  Add = 2,
  Swap = 3,
  Cas = 4,
};

/// Error of a context (ctxErr(), ctxCancel(h, err)).
enum class CtxErr : int32_t {
  None = 0,
  Canceled = 1,
  Deadline = 2,
};

/// State of a Once (onceEnter(), onceState()).
enum class OnceState : int32_t {
  Idle = 0,
  Running = 1,
  Done = 2,
};

/// How a Once's function ended (onceFinish(), onceResult()[2]).
enum class OnceOutcome : int32_t {
  Value = 0,
  Error = 1,
  CloneError = 2,
};

/// Outcome of a RateLimiter request (rateAllow(), rateReserve()[0]).
enum class RateRes : int32_t {
  Ok = 0,     // taken / reserved
  Late = 1,   // would wait longer than allowed: nothing taken
  Never = 2,  // can never be met at the current rate (rate 0): nothing taken
  Burst = 3,  // n exceeds the burst (finite rate): nothing taken
};

/// Int32 slots of a thread's status area (the ArrayBuffer init() returns).
enum class StatusSlot : uint32_t {
  Code = 0,         // result code of the last call
  Unused = 1,       // held 32-bit op ids once; op ids are the double at kStatusOpIdByteOffset
  Refs = 2,         // number of weft objects in the last received message (takeRefs())
  SelectIndex = 3,  // case index chosen by the last select
};

/// Number of Int32 slots of the status area (StatusSlot).
inline constexpr uint32_t kStatusSlots = 4;
/// Byte offset of the Float64 id of the last pending async op in the status area.
inline constexpr uint32_t kStatusOpIdByteOffset = 16;
/// Byte offset of the Float64 second result of the last call that has one: valueLoad()'s
/// version, onceResult()'s outcome (OnceOutcome), beside a value returned as scratch + refs.
inline constexpr uint32_t kStatusAuxByteOffset = 24;
/// Byte length of the status area.
inline constexpr uint32_t kStatusBytes = 32;

/// Int32 words of a Mutex (mutexWords()). State: bit kMutexLocked, plus 2 per queued waiter.
enum class MutexWord : uint32_t {
  State = 0,
  Owner = 2,  // id of the thread that locked it last (a hint for deadlock detection)
};

/// The locked bit of MutexWord.State.
inline constexpr int32_t kMutexLocked = 1;
/// Byte length of a Mutex's word buffer (four Int32 words).
inline constexpr uint32_t kMutexWordsBytes = 16;

/// Int32 words of a WaitGroup (wgWords()).
enum class WaitGroupWord : uint32_t {
  Counter = 0,
  Waiters = 1,
};

/// Byte length of a WaitGroup's word buffer (four Int32 words).
inline constexpr uint32_t kWaitGroupWordsBytes = 16;

/// Int32 word of an AtomicBool (atomWords(): the low half of the int64 cell, little-endian).
enum class AtomicBoolWord : uint32_t {
  Value = 0,
};

/// Byte length of an atomic cell's word buffer (one int64).
inline constexpr uint32_t kAtomicWordsBytes = 8;

/// Largest capacity of a channel: a buffered channel's ring positions are 32 bits wide (below).
inline constexpr uint32_t kMaxCapacity = 1073741823;

/// A buffered numeric channel's ring is shared memory that JavaScript reaches directly
/// (chanRing() returns [header, slots] as ArrayBuffers over it; lib/chan/ring.ts). Positions
/// (head, tail) and slot stamps are uint32 words: index in the low bits, the closed mark bit
/// (the smallest power of two above the capacity) above them, the lap count above the mark,
/// wrapping modulo 2^32. Every comparison is an equality or a difference taken modulo 2^32,
/// so wrap-around is harmless as long as no thread stays between reading a position and its
/// compare-and-swap on it while 2^32 / (2 x mark bit) laps (at least 2^30 operations) pass.
/// Byte offset of the head position (receivers' CAS) in the ring header.
inline constexpr uint32_t kRingHeadByteOffset = 0;
/// Byte offset of the tail position (senders' CAS; carries the closed mark bit).
inline constexpr uint32_t kRingTailByteOffset = 128;
/// Byte offset of the number of receivers queued to wait (uint32; unbuffered channels too).
inline constexpr uint32_t kRingRecvWaitingByteOffset = 256;
/// Byte offset of the number of senders queued to wait (uint32).
inline constexpr uint32_t kRingSendWaitingByteOffset = 260;
/// Byte offset of the capacity (uint32, written before the channel is shared).
inline constexpr uint32_t kRingCapacityByteOffset = 264;
/// Byte offset of the mark bit (uint32: the closed bit of the tail; index mask = mark - 1).
inline constexpr uint32_t kRingMarkBitByteOffset = 268;
/// Byte offset of one lap (uint32: 2 x mark bit; 0 means 2^32, never used: see kMaxCapacity).
inline constexpr uint32_t kRingOneLapByteOffset = 272;
/// Byte offset of the channel's ring serial (uint32, nonzero, written before the channel is
/// shared): names the ring in a thread's send record (kSendRecord*).
inline constexpr uint32_t kRingSerialByteOffset = 276;
/// Byte offset of the number of native senders between their claim and their last publish
/// that did not take owner words (uint32; batches, and every sender before the owner words
/// exist: they are allocated when a thread first maps the ring).
inline constexpr uint32_t kRingBatchingByteOffset = 280;
/// Byte length of the ring header.
inline constexpr uint32_t kRingHeaderBytes = 384;
/// Byte length of one slot: a uint32 stamp, 4 bytes of padding, the 64-bit value.
inline constexpr uint32_t kRingSlotBytes = 16;
/// Byte offset of a slot's stamp (uint32) in the slot.
inline constexpr uint32_t kRingSlotStampByteOffset = 0;
/// Byte length of a slot's owner word, kept apart from the slots (chanRing()[2]; a slot's own
/// line is the one its receiver polls): 0, or the send id of the thread claiming and filling
/// the slot. A single-value sender takes it with a CAS before its tail CAS and gives it back
/// after publishing, so a position whose slot's word a thread holds can only have been claimed
/// by that thread, or by a native sender that does not take words (a batch, or any sender
/// before the words exist), which kRingBatchingByteOffset counts: what lets a stopped
/// thread's send be completed for it (Channel::finish_send).
inline constexpr uint32_t kRingOwnerBytes = 4;
/// Byte offset of a slot's value in the slot: an f64's bits, an i64, or an i32 / bool
/// (0 or 1) zero-extended to 64 bits (little-endian). In a structured channel: a pointer to
/// a native message (bit 0 clear), or (length << 1) | 1 for a value whose encoded bytes sit
/// in the slot's inline block (chanRing()[2]; written by JavaScript only).
inline constexpr uint32_t kRingSlotValueByteOffset = 8;
/// Bytes of a structured ring's inline block per slot: an encoded value of at most this many
/// bytes that carries no weft object travels in the block of the slot it was queued in, with
/// no allocation and no native call.
inline constexpr uint32_t kRingInlineBytes = 128;
/// Largest capacity of a structured channel that gets inline blocks (capacity x kRingInlineBytes).
inline constexpr uint32_t kRingInlineMaxCapacity = 65536;
/// A thread's send record (sendRecord(): an ArrayBuffer over per-thread native memory). A
/// JavaScript sender writes the ring serial, the position and the value's bits here before it
/// takes the slot's owner word (kRingOwnerBytes); if Worker.terminate() stops it between that and giving the
/// word back, the ring header buffer's finalizer (run on that thread as its environment ends)
/// publishes the recorded value for it when the position was claimed (Channel::finish_send).
/// Byte offset of the serial of the ring being sent on (uint32).
inline constexpr uint32_t kSendRecordSerialByteOffset = 0;
/// Byte offset of the position being claimed (uint32).
inline constexpr uint32_t kSendRecordPosByteOffset = 4;
/// Byte offset of this thread's send id (uint32, nonzero, written by native code once).
inline constexpr uint32_t kSendRecordIdByteOffset = 8;
/// Byte offset of the value's 64 bits, as a slot holds them (kRingSlotValueByteOffset).
inline constexpr uint32_t kSendRecordValueByteOffset = 16;
/// Byte offset of a structured value's encoded bytes (kRingInlineBytes; the value's bits say
/// how many: (length << 1) | 1).
inline constexpr uint32_t kSendRecordBlockByteOffset = 24;
/// Byte length of a send record.
inline constexpr uint32_t kSendRecordBytes = 152;

// abi:end

// The underlying value of an ABI enumerator (an index into a word array, a code to store).
template <class E>
constexpr std::underlying_type_t<E> ix(E e) noexcept {
  return static_cast<std::underlying_type_t<E>>(e);
}

// JavaScript maps the word buffers as Int32Array / Float64Array views over native memory and
// uses Atomics on them: the native words must be plain, lock-free 32/64-bit integers.
static_assert(sizeof(std::atomic<int32_t>) == 4 && std::atomic<int32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<int64_t>) == 8 && std::atomic<int64_t>::is_always_lock_free);
static_assert(kStatusSlots * sizeof(int32_t) <= kStatusOpIdByteOffset);
static_assert(ix(StatusSlot::SelectIndex) < kStatusSlots);
static_assert(kStatusOpIdByteOffset % alignof(double) == 0);
static_assert(kStatusOpIdByteOffset + sizeof(double) <= kStatusAuxByteOffset);
static_assert(kStatusAuxByteOffset % alignof(double) == 0);
static_assert(kStatusAuxByteOffset + sizeof(double) <= kStatusBytes);
static_assert((ix(MutexWord::Owner) + 1) * sizeof(int32_t) <= kMutexWordsBytes);
static_assert((ix(WaitGroupWord::Waiters) + 1) * sizeof(int32_t) <= kWaitGroupWordsBytes);
static_assert(kAtomicWordsBytes == sizeof(std::atomic<int64_t>));
static_assert(kMutexLocked == 1, "the waiter count is stored as 2 x n above the locked bit");

// The ring header of a buffered channel: head, tail, geometry and the waiter counts (an
// unbuffered channel has none; it keeps its waiter counts itself, channel.h). A standard-layout struct at the offsets above, so JavaScript's Int32Array view over it
// (chanRing()) and C++ agree. Which memory order each field is read and written with is said
// at each site (native/core/chan/ring.cc, channel.cc, lib/chan/ring.ts).
struct alignas(128) RingHeader {
  std::atomic<uint32_t> head{0};
  char pad_head[kRingTailByteOffset - kRingHeadByteOffset - 4];
  std::atomic<uint32_t> tail{0};
  char pad_tail[kRingRecvWaitingByteOffset - kRingTailByteOffset - 4];
  std::atomic<uint32_t> recv_waiting{0};
  std::atomic<uint32_t> send_waiting{0};
  // Geometry: plain words written by the constructor before any other thread can reach the
  // channel (see Channel::set_owner for the hand-offs that publish it).
  uint32_t capacity = 0;
  uint32_t mark_bit = 0;
  uint32_t one_lap = 0;
  uint32_t serial = 0;
  // Native senders that took no owner word, between their tail CAS and their last publish
  // (ring.cc; read by Channel::finish_send).
  std::atomic<uint32_t> batching{0};
};
static_assert(std::is_standard_layout_v<RingHeader>);
static_assert(offsetof(RingHeader, head) == kRingHeadByteOffset);
static_assert(offsetof(RingHeader, tail) == kRingTailByteOffset);
static_assert(offsetof(RingHeader, recv_waiting) == kRingRecvWaitingByteOffset);
static_assert(offsetof(RingHeader, send_waiting) == kRingSendWaitingByteOffset);
static_assert(offsetof(RingHeader, capacity) == kRingCapacityByteOffset);
static_assert(offsetof(RingHeader, mark_bit) == kRingMarkBitByteOffset);
static_assert(offsetof(RingHeader, one_lap) == kRingOneLapByteOffset);
static_assert(offsetof(RingHeader, serial) == kRingSerialByteOffset);
static_assert(offsetof(RingHeader, batching) == kRingBatchingByteOffset);
static_assert(sizeof(RingHeader) == kRingHeaderBytes);

// One slot of the ring: the stamp says whose turn it is (position + 1: a value is there for
// the receiver at that position; position + one lap: free for the sender of the next lap).
// `val` is atomic for one reader only: JavaScript's tryRecv on a structured ring peeks at it
// (an Atomics.load of its low word) before its head CAS, to leave native messages to native
// code; a peek whose CAS then fails may overlap the next lap's write of the slot. Every other
// access is ordered by the stamp (release store / acquire load), so all of them are relaxed:
// plain moves, as before.
struct RingSlot {
  std::atomic<uint32_t> stamp;
  uint32_t pad;
  std::atomic<uint64_t> val;
};
static_assert(std::is_standard_layout_v<RingSlot>);
static_assert(offsetof(RingSlot, stamp) == kRingSlotStampByteOffset);
static_assert(sizeof(std::atomic<uint32_t>) == kRingOwnerBytes);
static_assert(offsetof(RingSlot, val) == kRingSlotValueByteOffset);
static_assert(sizeof(RingSlot) == kRingSlotBytes);
static_assert(sizeof(std::atomic<uint32_t>) == 4 && std::atomic<uint32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<uint64_t>) == 8 && std::atomic<uint64_t>::is_always_lock_free);
// A thread's send record (kSendRecord*): plain words, written and read by one thread only (its
// JavaScript, then its own finalizer after its JavaScript has stopped).
struct SendRecord {
  uint32_t serial = 0;
  uint32_t pos = 0;
  uint32_t id = 0;
  uint32_t pad = 0;
  uint64_t val = 0;
  uint64_t block[kRingInlineBytes / 8] = {};
};
static_assert(std::is_standard_layout_v<SendRecord>);
static_assert(offsetof(SendRecord, block) == kSendRecordBlockByteOffset);
static_assert(offsetof(SendRecord, serial) == kSendRecordSerialByteOffset);
static_assert(offsetof(SendRecord, pos) == kSendRecordPosByteOffset);
static_assert(offsetof(SendRecord, id) == kSendRecordIdByteOffset);
static_assert(offsetof(SendRecord, val) == kSendRecordValueByteOffset);
static_assert(sizeof(SendRecord) == kSendRecordBytes);
// The largest capacity's mark bit is 2^30 and its lap 2^31: one lap bit is left in 32 bits.
static_assert(kMaxCapacity < (uint32_t(1) << 30));

}  // namespace weft::abi
