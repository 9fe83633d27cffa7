#include "liveorigin/storage/nats_segment_store.h"
#include "liveorigin/common/thread_annotations.h"

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "record_codec.h"

namespace liveorigin::storage {
namespace {

// JetStream API error codes (nats-server 2.9) that mean "over a limit".
constexpr jsErrCode kInsufficientResources = static_cast<jsErrCode>(10023);
constexpr jsErrCode kStorageResourcesExceeded = static_cast<jsErrCode>(10047);
constexpr jsErrCode kMemoryResourcesExceeded = static_cast<jsErrCode>(10028);
constexpr jsErrCode kMaxBytesExceeded = static_cast<jsErrCode>(10054);

// Keys and subjects longer than this are refused before NATS sees them (the
// server's control line is 4 KiB by default).
constexpr size_t kMaxKeyLength = 1024;
// Room left in a message for the protocol when a body is split into parts.
constexpr int64_t kPartHeadroom = 512;
constexpr uint8_t kCandidateValueVersion = 1;
// A publish refused at once (no stream leader yet) is sent again after this.
constexpr std::chrono::milliseconds kRefusedPause{50};

Status FromNats(natsStatus s, jsErrCode jerr, std::string_view what) {
  std::string msg = std::string(what) + ": " + natsStatus_GetText(s);
  if (jerr != 0) msg += " (JetStream error " + std::to_string(static_cast<int>(jerr)) + ")";
  if (const char* last = nats_GetLastError(nullptr); last && *last) {
    msg += ": ";
    msg += last;
  }
  switch (s) {
    case NATS_NOT_FOUND:
      return Status::NotFound(std::move(msg));
    case NATS_TIMEOUT:
    case NATS_NO_SERVER:
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_NOT_YET_CONNECTED:
      return Status::Unavailable(std::move(msg));
    default:
      break;
  }
  if (jerr == JSClusterNotAvailErr) return Status::Unavailable(std::move(msg));
  if (jerr == kInsufficientResources || jerr == kStorageResourcesExceeded ||
      jerr == kMemoryResourcesExceeded || jerr == kMaxBytesExceeded) {
    return Status::NoSpace(std::move(msg));
  }
  return Status::IOError(std::move(msg));
}

// One KV key token: "h" + hex of the bytes, so any name is a valid token and
// tokens of one kind sort like the names they encode.
std::string Tok(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(1 + 2 * s.size());
  out.push_back('h');
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(kHex[u >> 4]);
    out.push_back(kHex[u & 0xF]);
  }
  return out;
}

// Zero-padded decimal: keys of one rendition sort by number.
std::string NumTok(uint64_t n) {
  std::string digits = std::to_string(n);
  return std::string(20 - digits.size(), '0') + digits;
}

std::string SegmentKey(char tag, std::string_view event, std::string_view rendition,
                       uint64_t number) {
  return std::string(1, tag) + "." + Tok(event) + "." + Tok(rendition) + "." + NumTok(number);
}

std::string CandidateKey(const CandidateId& id) {
  if (id.number)
    return SegmentKey('s', id.event, id.rendition, *id.number) + "." + Tok(id.pipeline);
  return "o." + Tok(id.event) + "." + Tok(id.path) + "." + Tok(id.pipeline);
}

std::string SelectionKey(std::string_view event, std::string_view rendition, uint64_t number) {
  return SegmentKey('x', event, rendition, number);
}

std::string ForcedKey(const ForcedSelectionRecord& r) {
  if (r.number) return SegmentKey('f', r.event, r.rendition, *r.number);
  return "g." + Tok(r.event) + "." + Tok(r.path);
}

std::string AuditKey(const AuditRecord& r) {
  return "a." + Tok(r.event) + "." + NumTok(static_cast<uint64_t>(r.actor.at_unix_ms)) + "." +
         Tok(r.actor.node) + "." + NumTok(r.sequence);
}

// A pipeline control or forced selection, stored with the audit entry of the
// change that wrote it: one KV write holds both, so a change is never kept
// without its entry (NATS has no batch of several keys). The entry is also
// written under its own "a." key, the trail that outlives the next change.
// Layout: kAuditedTag, be64 length of the record, the record, the entry.
// A value without the tag is a bare record (written before the envelope).
constexpr uint8_t kAuditedTag = 0xA5;

std::string EncodeAudited(const std::string& record, const AuditRecord& audit) {
  std::string out(1, static_cast<char>(kAuditedTag));
  const uint64_t n = record.size();
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  out += record;
  out += EncodeAudit(audit);
  return out;
}

// The record's bytes; `audit` gets the entry when the value has one.
Result<std::string_view> DecodeAudited(std::string_view value, std::optional<AuditRecord>* audit) {
  if (value.empty() || static_cast<uint8_t>(value[0]) != kAuditedTag) return value;
  if (value.size() < 9) return Status::Corruption("truncated audited record");
  uint64_t n = 0;
  for (size_t i = 1; i < 9; ++i) n = (n << 8) | static_cast<uint8_t>(value[i]);
  value.remove_prefix(9);
  if (n > value.size()) return Status::Corruption("truncated audited record");
  const std::string_view record = value.substr(0, n);
  auto entry = DecodeAudit(value.substr(n));
  if (!entry.ok()) return entry.status();
  if (audit) *audit = std::move(entry).value();
  return record;
}

// The number token of a segment key ("s.ev.rend.NUM[.pipe]").
std::optional<uint64_t> KeyNumber(std::string_view key) {
  size_t pos = 0;
  for (int dots = 0; dots < 3; ++dots) {
    pos = key.find('.', pos);
    if (pos == std::string_view::npos) return std::nullopt;
    ++pos;
  }
  const size_t end = std::min(key.find('.', pos), key.size());
  uint64_t n = 0;
  if (end - pos != 20) return std::nullopt;
  for (size_t i = pos; i < end; ++i) {
    if (key[i] < '0' || key[i] > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(key[i] - '0');
  }
  return n;
}

void AppendBe64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

bool ReadBe64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x = (x << 8) | static_cast<unsigned char>((*in)[i]);
  in->remove_prefix(8);
  *v = x;
  return true;
}

// A candidate's KV value: where its body parts are, then its record.
//   u8 version, be64 body size, be64 part count, be64 sequence × count, record
struct StoredCandidate {
  uint64_t size = 0;
  std::vector<uint64_t> parts;  // stream sequences, in order
  CandidateRecord record;
};

std::string EncodeStored(const CandidateRecord& record, uint64_t size,
                         const std::vector<uint64_t>& parts) {
  std::string out;
  out.push_back(static_cast<char>(kCandidateValueVersion));
  AppendBe64(&out, size);
  AppendBe64(&out, parts.size());
  for (const uint64_t p : parts) AppendBe64(&out, p);
  out += EncodeCandidate(record);
  return out;
}

Result<StoredCandidate> DecodeStored(std::string_view in) {
  StoredCandidate out;
  if (in.empty() || static_cast<uint8_t>(in[0]) != kCandidateValueVersion) {
    return Status::Corruption("candidate value of an unknown version");
  }
  in.remove_prefix(1);
  uint64_t count = 0;
  if (!ReadBe64(&in, &out.size) || !ReadBe64(&in, &count) || count > in.size() / 8) {
    return Status::Corruption("truncated candidate value");
  }
  out.parts.resize(count);
  for (auto& p : out.parts) ReadBe64(&in, &p);
  auto record = DecodeCandidate(in);
  if (!record.ok()) return record.status();
  out.record = std::move(record).value();
  return out;
}

// RAII holders for libnats objects.
struct EntryDeleter {
  void operator()(kvEntry* e) const { kvEntry_Destroy(e); }
};
using EntryPtr = std::unique_ptr<kvEntry, EntryDeleter>;
struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;
struct WatcherDeleter {
  void operator()(kvWatcher* w) const { kvWatcher_Destroy(w); }
};
using WatcherPtr = std::unique_ptr<kvWatcher, WatcherDeleter>;

std::string_view ValueOf(kvEntry* e) {
  return {static_cast<const char*>(kvEntry_Value(e)), static_cast<size_t>(kvEntry_ValueLen(e))};
}

}  // namespace

struct NatsSegmentStore::Impl {
  NatsOptions options;
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  kvStore* kv = nullptr;
  // Reads: the same bucket through a context whose requests wait one attempt
  // (AttemptWait), so that WhileNoLeader can send a read again within the
  // timeout when the first went to a leader that is gone.
  jsCtx* js_read = nullptr;
  kvStore* kv_read = nullptr;
  natsSubscription* sub = nullptr;
  std::string bucket, kv_stream, kv_subject_prefix, body_stream, body_prefix, notify_subject;
  // Nats-Msg-Id: this store's random prefix and a counter.
  std::string msg_id_prefix;
  std::atomic<uint64_t> msg_ids{0};
  size_t part_size = 0;

  mutable Mutex health_mu;
  Status last_write_error GUARDED_BY(health_mu);
  mutable std::chrono::steady_clock::time_point last_probe GUARDED_BY(health_mu){};

  Mutex listener_mu;
  RemoteCandidateListener listener GUARDED_BY(listener_mu);

  ~Impl() {
    if (sub) {
      // Drain: no callback (which uses this Impl) runs once this returns.
      if (natsSubscription_Drain(sub) == NATS_OK) {
        natsSubscription_WaitForDrainCompletion(sub, timeout_ms());
      } else {
        natsSubscription_Unsubscribe(sub);
      }
      natsSubscription_Destroy(sub);
    }
    if (kv_read) kvStore_Destroy(kv_read);
    if (js_read) jsCtx_Destroy(js_read);
    if (kv) kvStore_Destroy(kv);
    if (js) jsCtx_Destroy(js);
    if (nc) natsConnection_Destroy(nc);
    if (opts) natsOptions_Destroy(opts);
  }

  int64_t timeout_ms() const { return options.timeout.count(); }

  jsOptions JsOptions() const {
    jsOptions o;
    jsOptions_Init(&o);
    o.Wait = timeout_ms();
    return o;
  }

  Status NoteWrite(Status st) {
    MutexLock lock(health_mu);
    last_write_error = st;
    return st;
  }

  // Whether a failed call met a stream without a leader: refused at once
  // (no responders, JetStream error 10008) or never answered.
  static bool NoLeader(natsStatus s, jsErrCode jerr) {
    return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || jerr == JSClusterNotAvailErr;
  }

  // Calls `attempt(wait_ms, &jerr)` until it succeeds, fails otherwise than
  // for want of a leader, or the configured timeout has passed: after a
  // server is lost, writes, reads, scans and purges all meet seconds-long
  // elections (see Publish). A refused attempt waits kRefusedPause before
  // the next (the election needs the time); `wait_ms` is what one attempt
  // may wait for an answer: `wait`, or what is left of the timeout.
  template <typename Attempt>
  natsStatus WhileNoLeader(Attempt&& attempt, jsErrCode* jerr,
                           std::chrono::milliseconds wait = std::chrono::milliseconds(0)) {
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    if (wait.count() == 0) wait = AttemptWait(0);
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      *jerr = static_cast<jsErrCode>(0);
      const natsStatus s = attempt(std::max<int64_t>(1, std::min(wait, left).count()), jerr);
      if (s == NATS_OK || s == NATS_NOT_FOUND || !NoLeader(s, *jerr)) return s;
      const auto pause = s == NATS_TIMEOUT ? std::chrono::milliseconds(0) : kRefusedPause;
      if (std::chrono::steady_clock::now() + pause >= deadline) return s;
      std::this_thread::sleep_for(pause);
    }
  }

  Result<EntryPtr> Get(const std::string& key) {
    kvEntry* e = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = WhileNoLeader(
        [&](int64_t, jsErrCode*) {
          if (e) kvEntry_Destroy(e);
          e = nullptr;
          return kvStore_Get(&e, kv_read, key.c_str());
        },
        &jerr);
    if (s != NATS_OK) {
      if (e) kvEntry_Destroy(e);
      return FromNats(s, jerr, "read " + key);
    }
    return EntryPtr(e);
  }

  // One message of the body stream by its sequence.
  Result<MsgPtr> GetBodyMessage(uint64_t seq, std::string_view what) {
    natsMsg* raw = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = WhileNoLeader(
        [&](int64_t wait_ms, jsErrCode* err) {
          jsOptions jo = JsOptions();
          jo.Wait = wait_ms;
          return js_GetMsg(&raw, js, body_stream.c_str(), seq, &jo, err);
        },
        &jerr);
    if (s != NATS_OK) return FromNats(s, jerr, what);
    return MsgPtr(raw);
  }

  // How long one attempt of a publish waits for its acknowledgement: a
  // quarter of the timeout within [250 ms, 1 s], and 100 ms more per MiB.
  std::chrono::milliseconds AttemptWait(size_t bytes) const {
    using std::chrono::milliseconds;
    const milliseconds base =
        std::clamp(options.timeout / 4, milliseconds(250), milliseconds(1000));
    return std::min(options.timeout, base + milliseconds(100 * static_cast<int64_t>(bytes >> 20)));
  }

  // A Nats-Msg-Id no other publish of any node uses.
  std::string NextMsgId() {
    return msg_id_prefix + std::to_string(msg_ids.fetch_add(1, std::memory_order_relaxed));
  }

  // One JetStream publish, sent again while the stream has no leader to
  // acknowledge it. After a server is lost JetStream takes seconds to elect
  // new leaders; an attempt sent into that gap is refused at once or never
  // answered. Every attempt carries the same Nats-Msg-Id, so the stream
  // stores the message once however many attempts reach it, and answers a
  // repeat with the first one's sequence: the attempt whose acknowledgement
  // was lost is not stored twice. Each attempt waits AttemptWait(), the whole
  // call at most the configured timeout; the store's sequence is returned.
  // `only_if_new`: refused (JetStream error 10071) when the subject already
  // holds a message, the compare-and-set of a KV create.
  Result<uint64_t> Publish(const std::string& subject, std::string_view data, bool only_if_new,
                           std::string_view what) {
    const std::string msg_id = NextMsgId();
    uint64_t seq = 0;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = WhileNoLeader(
        [&](int64_t wait_ms, jsErrCode* err) {
          jsPubOptions po;
          jsPubOptions_Init(&po);
          po.MsgId = msg_id.c_str();
          po.MaxWait = wait_ms;
          po.ExpectNoMessage = only_if_new;
          jsPubAck* ack = nullptr;
          const natsStatus st = js_Publish(&ack, js, subject.c_str(), data.data(),
                                           static_cast<int>(data.size()), &po, err);
          if (ack) {
            seq = ack->Sequence;
            jsPubAck_Destroy(ack);
          }
          return st;
        },
        &jerr, AttemptWait(data.size()));
    if (s != NATS_OK) return FromNats(s, jerr, what);
    return seq;
  }

  Status Put(const std::string& key, const std::string& value, std::string_view what) {
    auto seq = Publish(kv_subject_prefix + key, value, /*only_if_new=*/false, what);
    return seq.ok() ? Status::Ok() : seq.status();
  }

  // Every live (key, value) under `filter`, in key order.
  Status Scan(const std::string& filter, std::vector<std::pair<std::string, std::string>>* out,
              bool meta_only = false) {
    kvWatchOptions wo;
    kvWatchOptions_Init(&wo);
    wo.IgnoreDeletes = true;
    wo.MetaOnly = meta_only;
    wo.Timeout = timeout_ms();
    kvWatcher* raw = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = WhileNoLeader(
        [&](int64_t, jsErrCode*) {
          raw = nullptr;
          return kvStore_Watch(&raw, kv_read, filter.c_str(), &wo);
        },
        &jerr);
    if (s != NATS_OK) return FromNats(s, jerr, "scan " + filter);
    WatcherPtr w(raw);
    for (;;) {
      kvEntry* e = nullptr;
      s = kvWatcher_Next(&e, w.get(), timeout_ms());
      if (s != NATS_OK) return FromNats(s, static_cast<jsErrCode>(0), "scan " + filter);
      if (!e) break;  // every current value was delivered
      EntryPtr entry(e);
      const kvOperation op = kvEntry_Operation(e);
      if (op == kvOp_Delete || op == kvOp_Purge) continue;
      out->emplace_back(kvEntry_Key(e), meta_only ? std::string() : std::string(ValueOf(e)));
    }
    std::sort(out->begin(), out->end());
    return Status::Ok();
  }

  // Removes every message on `subject` from `stream` (no tombstone left).
  Status PurgeSubject(const std::string& stream, const std::string& subject) {
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = WhileNoLeader(
        [&](int64_t wait_ms, jsErrCode* err) {
          jsOptions o = JsOptions();
          o.Wait = wait_ms;
          o.Stream.Purge.Subject = subject.c_str();
          return js_PurgeStream(js, stream.c_str(), &o, err);
        },
        &jerr);
    if (s != NATS_OK) return FromNats(s, jerr, "purge " + subject);
    return Status::Ok();
  }

  Status PurgeKey(const std::string& key) {
    return PurgeSubject(kv_stream, "$KV." + bucket + "." + key);
  }

  // A candidate's key and everything stored for it.
  Status PurgeCandidate(const std::string& key) {
    if (Status st = PurgeSubject(body_stream, body_prefix + key); !st.ok()) return st;
    return PurgeKey(key);
  }

  template <typename Record>
  Status ScanRecords(const std::string& filter, Result<Record> (*decode)(std::string_view),
                     const std::function<void(Record&&)>& fn) {
    std::vector<std::pair<std::string, std::string>> entries;
    if (Status st = Scan(filter, &entries); !st.ok()) return st;
    for (auto& [key, value] : entries) {
      auto record = decode(value);
      if (!record.ok()) return Status::Corruption(key + ": " + record.status().message());
      fn(std::move(record).value());
    }
    return Status::Ok();
  }

  // Like ScanRecords, for values that may carry an audit entry (EncodeAudited):
  // `fn` gets each record, `on_audit` (when set) each entry.
  template <typename Record>
  Status ScanAudited(const std::string& filter, Result<Record> (*decode)(std::string_view),
                     const std::function<void(Record&&)>& fn,
                     const std::function<void(AuditRecord&&)>& on_audit) {
    std::vector<std::pair<std::string, std::string>> entries;
    if (Status st = Scan(filter, &entries); !st.ok()) return st;
    for (auto& [key, value] : entries) {
      std::optional<AuditRecord> audit;
      auto bytes = DecodeAudited(value, &audit);
      if (!bytes.ok()) return Status::Corruption(key + ": " + bytes.status().message());
      auto record = decode(*bytes);
      if (!record.ok()) return Status::Corruption(key + ": " + record.status().message());
      fn(std::move(record).value());
      if (audit && on_audit) on_audit(std::move(*audit));
    }
    return Status::Ok();
  }

  void OnNotification(natsMsg* msg) {
    MsgPtr owned(msg);
    const std::string_view data(natsMsg_GetData(msg),
                                static_cast<size_t>(natsMsg_GetDataLength(msg)));
    auto stored = DecodeStored(data);
    if (!stored.ok()) return;  // not ours, or from a newer version: ignored
    MutexLock lock(listener_mu);
    if (listener) listener(std::move(stored->record));
  }

  static void OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    static_cast<Impl*>(closure)->OnNotification(msg);
  }

  Status Setup();
};

Status NatsSegmentStore::Impl::Setup() {
  natsStatus s = natsOptions_Create(&opts);
  if (s != NATS_OK) return FromNats(s, static_cast<jsErrCode>(0), "NATS client options");
  std::vector<const char*> urls;
  for (const auto& u : options.servers) urls.push_back(u.c_str());
  s = natsOptions_SetServers(opts, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, timeout_ms());
  if (s == NATS_OK) s = natsOptions_SetName(opts, ("liveorigin " + options.node).c_str());
  // Reconnect forever (to any server of the cluster), quickly: a lost server
  // costs one reconnect, and Health() reports the gap.
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 100);
  if (s == NATS_OK) s = natsOptions_SetPingInterval(opts, 1000);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(opts, 3);
  // Notifications this connection publishes are not delivered back to it.
  if (s == NATS_OK) s = natsOptions_SetNoEcho(opts, true);
  if (s != NATS_OK) return FromNats(s, static_cast<jsErrCode>(0), "NATS client options");

  std::string list;
  for (const auto& u : options.servers) list += (list.empty() ? "" : ", ") + u;
  s = natsConnection_Connect(&nc, opts);
  if (s != NATS_OK) {
    return FromNats(s, static_cast<jsErrCode>(0), "cannot connect to NATS (" + list + ")");
  }
  jsOptions jo = JsOptions();
  s = natsConnection_JetStream(&js, nc, &jo);
  if (s != NATS_OK) return FromNats(s, static_cast<jsErrCode>(0), "JetStream context");
  jsAccountInfo* ai = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  s = js_GetAccountInfo(&ai, js, &jo, &jerr);
  if (s != NATS_OK) {
    return FromNats(s, jerr,
                    "JetStream does not answer on " + list +
                        " (is the server started with JetStream enabled?)");
  }
  jsAccountInfo_Destroy(ai);

  const int64_t max_payload = natsConnection_GetMaxPayload(nc);
  part_size = static_cast<size_t>(std::max<int64_t>(4096, max_payload - kPartHeadroom));

  // The body stream.
  jsStreamInfo* si = nullptr;
  s = js_GetStreamInfo(&si, js, body_stream.c_str(), &jo, &jerr);
  if (s == NATS_NOT_FOUND) {
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    const std::string subjects = body_prefix + ">";
    const char* subject_list[] = {subjects.c_str()};
    sc.Name = body_stream.c_str();
    sc.Subjects = subject_list;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Replicas = options.replicas;
    sc.Retention = js_LimitsPolicy;
    sc.Discard = js_DiscardNew;  // a full stream refuses PUTs, never drops stored bodies
    s = js_AddStream(&si, js, &sc, &jo, &jerr);
    if (s != NATS_OK) return FromNats(s, jerr, "cannot create stream " + body_stream);
  } else if (s != NATS_OK) {
    return FromNats(s, jerr, "cannot read stream " + body_stream);
  }
  jsStreamInfo_Destroy(si);

  // The metadata bucket.
  s = js_KeyValue(&kv, js, bucket.c_str());
  if (s != NATS_OK) {
    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = bucket.c_str();
    kc.History = 1;
    kc.StorageType = js_FileStorage;
    kc.Replicas = options.replicas;
    s = js_CreateKeyValue(&kv, js, &kc);
    // Another node may have created it meanwhile.
    if (s != NATS_OK) s = js_KeyValue(&kv, js, bucket.c_str());
    if (s != NATS_OK)
      return FromNats(s, static_cast<jsErrCode>(0), "cannot create bucket " + bucket);
  }
  jsOptions read_options = JsOptions();
  read_options.Wait = AttemptWait(0).count();
  s = natsConnection_JetStream(&js_read, nc, &read_options);
  if (s == NATS_OK) s = js_KeyValue(&kv_read, js_read, bucket.c_str());
  if (s != NATS_OK) return FromNats(s, static_cast<jsErrCode>(0), "open bucket " + bucket);

  s = natsConnection_Subscribe(&sub, nc, notify_subject.c_str(), &Impl::OnMessage, this);
  if (s != NATS_OK) return FromNats(s, static_cast<jsErrCode>(0), "subscribe " + notify_subject);
  // A slow listener must not make the library buffer without bound.
  natsSubscription_SetPendingLimits(sub, 65536, 256 << 20);
  return Status::Ok();
}

NatsSegmentStore::NatsSegmentStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NatsSegmentStore::~NatsSegmentStore() = default;

Result<std::unique_ptr<NatsSegmentStore>> NatsSegmentStore::Open(const NatsOptions& options) {
  if (options.servers.empty()) return Status::InvalidArgument("no NATS server given");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->bucket = options.prefix + "_meta";
  impl->kv_stream = "KV_" + impl->bucket;
  impl->kv_subject_prefix = "$KV." + impl->bucket + ".";
  {
    std::random_device rd;
    const uint64_t nonce = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    impl->msg_id_prefix = std::to_string(nonce) + "-";
  }
  impl->body_stream = options.prefix + "_bodies";
  impl->body_prefix = options.prefix + ".body.";
  impl->notify_subject = options.prefix + ".put";
  if (Status st = impl->Setup(); !st.ok()) return st;
  return std::unique_ptr<NatsSegmentStore>(new NatsSegmentStore(std::move(impl)));
}

size_t NatsSegmentStore::part_size() const { return impl_->part_size; }

Result<uint64_t> NatsSegmentStore::BodyMessages() const {
  jsOptions jo = impl_->JsOptions();
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, impl_->js, impl_->body_stream.c_str(), &jo, &jerr);
  if (s != NATS_OK) return FromNats(s, jerr, "stream info");
  const uint64_t msgs = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  return msgs;
}

Result<std::string> NatsSegmentStore::BodyStreamLeader() const {
  jsOptions jo = impl_->JsOptions();
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, impl_->js, impl_->body_stream.c_str(), &jo, &jerr);
  if (s != NATS_OK) return FromNats(s, jerr, "stream info");
  std::string leader = si->Cluster && si->Cluster->Leader ? si->Cluster->Leader : "";
  jsStreamInfo_Destroy(si);
  return leader;
}

Status NatsSegmentStore::PutCandidate(const CandidateRecord& record, std::string_view body) {
  Impl& m = *impl_;
  const std::string key = CandidateKey(record.id);
  if (key.size() > kMaxKeyLength) {
    return Status::InvalidArgument("object path too long for the NATS store (" +
                                   std::to_string(record.id.path.size()) + " bytes)");
  }
  // The parts of the candidate this one replaces, removed once it is stored.
  // When they cannot be read (the bucket is electing a leader), the write
  // goes on: the old parts stay until retention purges the key's subject.
  std::vector<uint64_t> old_parts;
  if (auto old = m.Get(key); old.ok()) {
    if (auto stored = DecodeStored(ValueOf(old->get())); stored.ok()) old_parts = stored->parts;
  } else if (!old.status().IsNotFound() && old.status().code() != Status::Code::kUnavailable) {
    return m.NoteWrite(old.status());
  }

  const std::string subject = m.body_prefix + key;
  std::vector<uint64_t> parts;
  auto drop_parts = [&m, &parts] {
    jsOptions jo = m.JsOptions();
    for (const uint64_t seq : parts) {
      js_DeleteMsg(m.js, m.body_stream.c_str(), seq, &jo, nullptr);
    }
  };
  for (size_t off = 0; off < body.size(); off += m.part_size) {
    const size_t len = std::min(m.part_size, body.size() - off);
    auto seq = m.Publish(subject, body.substr(off, len), /*only_if_new=*/false,
                         "store body of " + record.id.path);
    if (!seq.ok()) {
      drop_parts();
      return m.NoteWrite(seq.status());
    }
    parts.push_back(*seq);
  }
  const std::string value = EncodeStored(record, body.size(), parts);
  if (Status st = m.Put(key, value, "store record of " + record.id.path); !st.ok()) {
    drop_parts();
    return m.NoteWrite(st);
  }
  {
    jsOptions jo = m.JsOptions();
    for (const uint64_t seq : old_parts) {
      if (std::find(parts.begin(), parts.end(), seq) == parts.end()) {
        js_DeleteMsg(m.js, m.body_stream.c_str(), seq, &jo, nullptr);
      }
    }
  }
  // Tell the other nodes; a lost notification is covered by their re-checks.
  if (m.options.announce) {
    natsConnection_Publish(m.nc, m.notify_subject.c_str(), value.data(),
                           static_cast<int>(value.size()));
  }
  return m.NoteWrite(Status::Ok());
}

Result<CandidateRecord> NatsSegmentStore::GetCandidate(const CandidateId& id) {
  auto entry = impl_->Get(CandidateKey(id));
  if (!entry.ok()) return entry.status();
  auto stored = DecodeStored(ValueOf(entry->get()));
  if (!stored.ok()) return stored.status();
  return std::move(stored->record);
}

Result<Body> NatsSegmentStore::GetBody(const CandidateId& id) {
  Impl& m = *impl_;
  auto entry = m.Get(CandidateKey(id));
  if (!entry.ok()) return entry.status();
  auto stored = DecodeStored(ValueOf(entry->get()));
  if (!stored.ok()) return stored.status();
  auto body = std::make_shared<std::string>();
  body->reserve(stored->size);
  for (const uint64_t seq : stored->parts) {
    auto msg = m.GetBodyMessage(seq, "read body of " + id.path);
    if (!msg.ok()) return msg.status();
    const natsMsg* raw = msg->get();
    body->append(natsMsg_GetData(raw), static_cast<size_t>(natsMsg_GetDataLength(raw)));
    if (body->size() > stored->size) break;
  }
  if (body->size() != stored->size) {
    return Status::Corruption("body of " + id.path + " has " + std::to_string(body->size()) +
                              " bytes, its record says " + std::to_string(stored->size));
  }
  return Body(std::move(body));
}

Status NatsSegmentStore::ForEachCandidate(const std::function<void(CandidateRecord&&)>& fn) {
  for (const char* filter : {"s.>", "o.>"}) {
    std::vector<std::pair<std::string, std::string>> entries;
    if (Status st = impl_->Scan(filter, &entries); !st.ok()) return st;
    for (auto& [key, value] : entries) {
      auto stored = DecodeStored(value);
      if (!stored.ok()) return Status::Corruption(key + ": " + stored.status().message());
      fn(std::move(stored->record));
    }
  }
  return Status::Ok();
}

Status NatsSegmentStore::PutSelection(const SelectionRecord& selection) {
  return impl_->NoteWrite(
      impl_->Put(SelectionKey(selection.event, selection.rendition, selection.number),
                 EncodeSelection(selection), "write selection"));
}

Result<SelectionRecord> NatsSegmentStore::ProposeSelection(const SelectionRecord& proposed) {
  Impl& m = *impl_;
  const std::string key = SelectionKey(proposed.event, proposed.rendition, proposed.number);
  const std::string value = EncodeSelection(proposed);
  // Written only if the key holds nothing (retention purges keys whole,
  // leaving no delete marker). A repeat of an attempt that was stored is
  // answered as a duplicate, or refused and then read back as our own value.
  auto created =
      m.Publish(m.kv_subject_prefix + key, value, /*only_if_new=*/true, "propose selection");
  if (created.ok()) {
    (void)m.NoteWrite(Status::Ok());  // clears an earlier write error
    return proposed;
  }
  const Status create_error = created.status();
  // Refused: another node decided first (or NATS failed; the read tells).
  auto entry = m.Get(key);
  if (!entry.ok()) return m.NoteWrite(entry.status().IsNotFound() ? create_error : entry.status());
  auto winner = DecodeSelection(ValueOf(entry->get()));
  if (!winner.ok()) return winner.status();
  return winner;
}

Status NatsSegmentStore::ForEachSelection(const std::function<void(SelectionRecord&&)>& fn) {
  return impl_->ScanRecords<SelectionRecord>("x.>", &DecodeSelection, fn);
}

Status NatsSegmentStore::ApplyOperatorChange(const OperatorChange& change) {
  Impl& m = *impl_;
  const std::string audit_key = AuditKey(change.audit);
  // Each record is written with its audit entry in one value. The entry
  // kept in the value being replaced goes to the trail first, in case its
  // own trail write had failed: replacing the value must not lose it.
  auto write = [&](const std::string& key, const std::string& record,
                   std::string_view what) -> Status {
    if (auto old = m.Get(key); old.ok()) {
      std::optional<AuditRecord> earlier;
      if (DecodeAudited(ValueOf(old->get()), &earlier).ok() && earlier &&
          AuditKey(*earlier) != audit_key) {
        if (Status st = m.Put(AuditKey(*earlier), EncodeAudit(*earlier), "write audit entry");
            !st.ok()) {
          return st;
        }
      }
    } else if (!old.status().IsNotFound()) {
      return old.status();
    }
    return m.Put(key, EncodeAudited(record, change.audit), what);
  };
  if (change.pipeline) {
    const std::string key =
        "p." + Tok(change.pipeline->event) + "." + Tok(change.pipeline->pipeline);
    if (Status st = write(key, EncodePipelineControl(*change.pipeline), "write pipeline control");
        !st.ok()) {
      return m.NoteWrite(st);
    }
  }
  if (change.forced) {
    if (Status st = write(ForcedKey(*change.forced), EncodeForcedSelection(*change.forced),
                          "write forced selection");
        !st.ok()) {
      return m.NoteWrite(st);
    }
  }
  // The trail; should this write fail, the entry is still read from the
  // record's value (ForEachAudit).
  return m.NoteWrite(m.Put(audit_key, EncodeAudit(change.audit), "write audit entry"));
}

Status NatsSegmentStore::ForEachPipelineControl(
    const std::function<void(PipelineControlRecord&&)>& fn) {
  return impl_->ScanAudited<PipelineControlRecord>("p.>", &DecodePipelineControl, fn, nullptr);
}

Status NatsSegmentStore::ForEachForcedSelection(
    const std::function<void(ForcedSelectionRecord&&)>& fn) {
  for (const char* filter : {"f.>", "g.>"}) {
    if (Status st =
            impl_->ScanAudited<ForcedSelectionRecord>(filter, &DecodeForcedSelection, fn, nullptr);
        !st.ok()) {
      return st;
    }
  }
  return Status::Ok();
}

// The trail ("a." keys), with the entries kept in the records' values that
// the trail lacks, in key order (event, then time).
Status NatsSegmentStore::ForEachAudit(const std::function<void(AuditRecord&&)>& fn) {
  Impl& m = *impl_;
  std::map<std::string, AuditRecord> entries;
  Status st = m.ScanRecords<AuditRecord>("a.>", &DecodeAudit, [&](AuditRecord&& r) {
    std::string key = AuditKey(r);
    entries.emplace(std::move(key), std::move(r));
  });
  if (!st.ok()) return st;
  auto keep = [&](AuditRecord&& r) {
    std::string key = AuditKey(r);
    entries.emplace(std::move(key), std::move(r));
  };
  auto ignore_pipeline = [](PipelineControlRecord&&) {};
  auto ignore_forced = [](ForcedSelectionRecord&&) {};
  st = m.ScanAudited<PipelineControlRecord>("p.>", &DecodePipelineControl, ignore_pipeline, keep);
  for (const char* filter : {"f.>", "g.>"}) {
    if (!st.ok()) return st;
    st = m.ScanAudited<ForcedSelectionRecord>(filter, &DecodeForcedSelection, ignore_forced, keep);
  }
  if (!st.ok()) return st;
  for (auto& [key, r] : entries) fn(std::move(r));
  return Status::Ok();
}

// Key "n.<node>": one report per node, replaced in place (the bucket keeps
// one revision per key).
Status NatsSegmentStore::PutNodeReport(std::string_view node, std::string_view report) {
  // A write every few seconds from each node: a JetStream without quorum
  // (one server of three left) shows in Health() by its failure.
  return impl_->NoteWrite(impl_->Put("n." + Tok(node), std::string(report), "write node report"));
}

Status NatsSegmentStore::ForEachNodeReport(const std::function<void(std::string&&)>& fn) {
  std::vector<std::pair<std::string, std::string>> entries;
  if (Status st = impl_->Scan("n.>", &entries); !st.ok()) return st;
  for (auto& [key, value] : entries) fn(std::move(value));
  return Status::Ok();
}

Status NatsSegmentStore::DeleteSegmentsBefore(std::string_view event, std::string_view rendition,
                                              uint64_t first_kept) {
  Impl& m = *impl_;
  for (const char tag : {'s', 'x', 'f'}) {
    const std::string filter = std::string(1, tag) + "." + Tok(event) + "." + Tok(rendition) + ".>";
    std::vector<std::pair<std::string, std::string>> keys;
    if (Status st = m.Scan(filter, &keys, /*meta_only=*/true); !st.ok()) return m.NoteWrite(st);
    for (const auto& [key, unused] : keys) {
      const auto number = KeyNumber(key);
      if (!number || *number >= first_kept) continue;
      Status st = tag == 's' ? m.PurgeCandidate(key) : m.PurgeKey(key);
      if (!st.ok()) return m.NoteWrite(st);
    }
  }
  return m.NoteWrite(Status::Ok());
}

Status NatsSegmentStore::DeleteObject(std::string_view event, std::string_view path) {
  Impl& m = *impl_;
  std::vector<std::pair<std::string, std::string>> keys;
  const std::string filter = "o." + Tok(event) + "." + Tok(path) + ".*";
  if (Status st = m.Scan(filter, &keys, /*meta_only=*/true); !st.ok()) return m.NoteWrite(st);
  for (const auto& [key, unused] : keys) {
    if (Status st = m.PurgeCandidate(key); !st.ok()) return m.NoteWrite(st);
  }
  ForcedSelectionRecord forced;
  forced.event = std::string(event);
  forced.path = std::string(path);
  return m.NoteWrite(m.PurgeKey(ForcedKey(forced)));
}

Status NatsSegmentStore::Health() const {
  Impl& m = *impl_;
  const natsConnStatus cs = natsConnection_Status(m.nc);
  if (cs != NATS_CONN_STATUS_CONNECTED) {
    return Status::Unavailable("not connected to any NATS server (reconnecting)");
  }
  Status last;
  {
    MutexLock lock(m.health_mu);
    last = m.last_write_error;
    if (last.ok()) return last;
    // After a failed write, probe JetStream (at most once a second) so that
    // readiness comes back without waiting for the next write.
    const auto now = std::chrono::steady_clock::now();
    if (now - m.last_probe < std::chrono::seconds(1)) return last;
    m.last_probe = now;
  }
  // The probe is a write, one attempt: a read may be answered by any
  // replica, also by the last server of three, where no write can succeed.
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = std::min<int64_t>(m.timeout_ms(), 1000);
  jsPubAck* ack = nullptr;
  const std::string subject = m.kv_subject_prefix + "health";
  const natsStatus s = js_Publish(&ack, m.js, subject.c_str(), "ok", 2, &po, nullptr);
  if (ack) jsPubAck_Destroy(ack);
  if (s != NATS_OK) return last;
  MutexLock lock(m.health_mu);
  m.last_write_error = Status::Ok();
  return Status::Ok();
}

void NatsSegmentStore::SetRemoteCandidateListener(const RemoteCandidateListener& listener) {
  MutexLock lock(impl_->listener_mu);
  impl_->listener = listener;
}

}  // namespace liveorigin::storage
