/*
 * The transcript reader's fast path (src/sources/usage/transcripts/native-scan.ts): finds the
 * lines of a buffer that hold `"usage":{`, checks each is a JSON object exactly as JSON.parse
 * would accept it, and reads the usage entry of the common shape (an assistant line: timestamp,
 * message.usage with integer counts, plain ASCII ids) into a row of numbers.
 *
 * It decides only what it can decide exactly. Any line it is not sure of (a malformed line, a
 * field of another type, an escape in an id, a rejected null, advisor iterations, a progress
 * line, a rate-limit message) comes back with status FALLBACK, and the JavaScript rules of
 * line.ts read it: so this file may be stricter than those rules, never looser. A test runs every
 * fixture line and thousands of mutated ones through both paths and compares.
 *
 * No state: safe from several worker threads at once.
 */
#define _GNU_SOURCE /* memmem, memrchr */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The layout of one row: keep in step with ROW in native-scan.ts. */
enum {
  R_STATUS, R_START, R_END, R_AT, R_MESSAGE_HASH, R_REQUEST_HASH,
  R_INPUT, R_OUTPUT, R_CACHE_5M, R_CACHE_1H, R_CACHE_READ,
  R_SESSION_START, R_SESSION_END, R_SESSION_HASH, R_MODEL_START, R_MODEL_END, R_MODEL_HASH, R_COST_START, R_COST_END, R_FLAGS,
  ROW
};
enum { STATUS_FALLBACK = 0, STATUS_ENTRY = 1 };
/* batch.ts ENTRY_FLAG */
enum { FLAG_SIDECHAIN = 1, FLAG_HAS_SPEED = 2, FLAG_FAST = 4, FLAG_DAILY_ONLY = 8 };
/* Hash of a missing id (records.ts NO_ID): -1 stands in, the caller maps it. */
#define NO_HASH (-1.0)

static const char MARKER[] = "\"usage\":{";
#define MARKER_LENGTH (sizeof MARKER - 1)
#define MAX_DEPTH 256
/* Digits a count may have to be read exactly as a double (JSON.parse gives a double). */
#define MAX_COUNT_DIGITS 15

typedef enum { T_ABSENT = 0, T_STRING, T_NUMBER, T_OBJECT, T_ARRAY, T_TRUE, T_FALSE, T_NULL } Type;

typedef struct {
  uint8_t type;
  uint8_t seen;
  /* a string without escapes or bytes >= 0x80; a number that is a plain unsigned integer */
  uint8_t plain;
  const uint8_t *start, *end; /* a string's content, a number's digits */
} Field;

/* The members the usage rules read, by the object they sit in. */
enum {
  F_TIMESTAMP, F_MESSAGE, F_VERSION, F_SESSION_ID, F_REQUEST_ID, F_COST_USD, F_IS_SIDECHAIN, F_IS_API_ERROR, F_DATA,
  F_DATA_MESSAGE,
  F_USAGE, F_MODEL, F_ID,
  F_INPUT, F_OUTPUT, F_CACHE_CREATION_INPUT, F_CACHE_READ_INPUT, F_SPEED, F_CACHE_CREATION, F_ITERATIONS,
  F_EPHEMERAL_5M, F_EPHEMERAL_1H,
  FIELD_COUNT
};

/*
 * An object whose members the rules read: the line, its message, usage and cache split; for a
 * progress line also `data` and the line nested in `data.message`, with a message, usage and
 * split of its own (the NESTED contexts, read into a second set of fields).
 */
typedef enum {
  C_OTHER, C_ROOT, C_MESSAGE, C_USAGE, C_CACHE_CREATION, C_DATA,
  C_NESTED, C_NESTED_MESSAGE, C_NESTED_USAGE, C_NESTED_CACHE_CREATION
} Context;
#define NESTED_SHIFT (C_NESTED - C_ROOT)

typedef struct {
  const char *name;
  size_t length;
  Context context;
  int field;
  Context child; /* the context of an object value */
} Key;

#define KEY(name, context, field, child) {name, sizeof name - 1, context, field, child}
static const Key KEYS[] = {
  KEY("timestamp", C_ROOT, F_TIMESTAMP, C_OTHER),
  KEY("message", C_ROOT, F_MESSAGE, C_MESSAGE),
  KEY("version", C_ROOT, F_VERSION, C_OTHER),
  KEY("sessionId", C_ROOT, F_SESSION_ID, C_OTHER),
  KEY("requestId", C_ROOT, F_REQUEST_ID, C_OTHER),
  KEY("costUSD", C_ROOT, F_COST_USD, C_OTHER),
  KEY("isSidechain", C_ROOT, F_IS_SIDECHAIN, C_OTHER),
  KEY("isApiErrorMessage", C_ROOT, F_IS_API_ERROR, C_OTHER),
  KEY("data", C_ROOT, F_DATA, C_DATA),
  KEY("message", C_DATA, F_DATA_MESSAGE, C_NESTED),
  KEY("usage", C_MESSAGE, F_USAGE, C_USAGE),
  KEY("model", C_MESSAGE, F_MODEL, C_OTHER),
  KEY("id", C_MESSAGE, F_ID, C_OTHER),
  KEY("input_tokens", C_USAGE, F_INPUT, C_OTHER),
  KEY("output_tokens", C_USAGE, F_OUTPUT, C_OTHER),
  KEY("cache_creation_input_tokens", C_USAGE, F_CACHE_CREATION_INPUT, C_OTHER),
  KEY("cache_read_input_tokens", C_USAGE, F_CACHE_READ_INPUT, C_OTHER),
  KEY("speed", C_USAGE, F_SPEED, C_OTHER),
  KEY("cache_creation", C_USAGE, F_CACHE_CREATION, C_CACHE_CREATION),
  KEY("iterations", C_USAGE, F_ITERATIONS, C_OTHER),
  KEY("ephemeral_5m_input_tokens", C_CACHE_CREATION, F_EPHEMERAL_5M, C_OTHER),
  KEY("ephemeral_1h_input_tokens", C_CACHE_CREATION, F_EPHEMERAL_1H, C_OTHER),
};

enum { DIRECT, NESTED };

typedef struct {
  const uint8_t *p, *end;
  Field fields[2][FIELD_COUNT];
  /* a member the rules read appeared twice, or under a key with an escape: leave it to JSON.parse */
  int unsure;
} Parser;

static int parse_value(Parser *ps, Context context, Field *into, int depth);

static inline void skip_space(Parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n')) ps->p++;
}

static inline int hex(uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * The first byte at or after p that a string scan must look at: '"', '\\', a control byte, and
 * (while the string still looks plain ASCII) a byte >= 0x80. Sixteen bytes a step where SSE2 is.
 */
static inline const uint8_t *string_stop(const uint8_t *p, const uint8_t *limit, int stop_at_high) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20), control_max = _mm_set1_epi8(0x1f);
  while (limit - p >= 16) {
    const __m128i v = _mm_loadu_si128((const __m128i *)p);
    // signed compare: bytes >= 0x80 are negative, so below 0x20 too; unsigned: v == min(v, 0x1f)
    const __m128i low = stop_at_high ? _mm_cmplt_epi8(v, space) : _mm_cmpeq_epi8(_mm_min_epu8(v, control_max), v);
    const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)), low));
    if (mask) return p + __builtin_ctz((unsigned)mask);
    p += 16;
  }
#endif
  while (p < limit && *p >= 0x20 && (*p < 0x80 || !stop_at_high) && *p != '"' && *p != '\\') p++;
  return p;
}

/* At the opening quote. Sets the content span; plain: no escape and no byte >= 0x80. */
static int parse_string(Parser *ps, const uint8_t **start, const uint8_t **end, int *plain) {
  const uint8_t *p = ps->p + 1;
  const uint8_t *limit = ps->end;
  int clean = 1;
  *start = p;
  for (;;) {
    p = string_stop(p, limit, clean);
    if (p >= limit || *p < 0x20) return 0;
    if (*p == '"') break;
    clean = 0;
    if (*p >= 0x80) continue;
    p++; /* a backslash */
    if (p >= limit) return 0;
    switch (*p) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        p++;
        break;
      case 'u':
        if (limit - p < 5 || !hex(p[1]) || !hex(p[2]) || !hex(p[3]) || !hex(p[4])) return 0;
        p += 5;
        break;
      default:
        return 0;
    }
  }
  *end = p;
  *plain = clean;
  ps->p = p + 1;
  return 1;
}

static inline int digit(uint8_t c) { return c >= '0' && c <= '9'; }

/* JSON's number grammar; plain: an unsigned integer of at most MAX_COUNT_DIGITS digits. */
static int parse_number(Parser *ps, Field *into) {
  const uint8_t *p = ps->p, *limit = ps->end, *start = p;
  int plain = 1;
  if (*p == '-') { plain = 0; p++; }
  if (p >= limit || !digit(*p)) return 0;
  if (*p == '0') p++;
  else while (p < limit && digit(*p)) p++;
  if (p - start > MAX_COUNT_DIGITS) plain = 0;
  if (p < limit && *p == '.') {
    plain = 0;
    p++;
    if (p >= limit || !digit(*p)) return 0;
    while (p < limit && digit(*p)) p++;
  }
  if (p < limit && (*p == 'e' || *p == 'E')) {
    plain = 0;
    p++;
    if (p < limit && (*p == '+' || *p == '-')) p++;
    if (p >= limit || !digit(*p)) return 0;
    while (p < limit && digit(*p)) p++;
  }
  if (into) { into->type = T_NUMBER; into->plain = (uint8_t)plain; into->start = start; into->end = p; }
  ps->p = p;
  return 1;
}

static int literal(Parser *ps, const char *word, size_t length) {
  if ((size_t)(ps->end - ps->p) < length || memcmp(ps->p, word, length) != 0) return 0;
  ps->p += length;
  return 1;
}

static const Key *find_key(Context context, const uint8_t *start, const uint8_t *end) {
  size_t length = (size_t)(end - start);
  for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++) {
    if (KEYS[i].context == context && KEYS[i].length == length && memcmp(KEYS[i].name, start, length) == 0) return &KEYS[i];
  }
  return NULL;
}

/* The field a member fills and the context of its value, or NULL (a member the rules do not read). */
static Field *member(Parser *ps, Context context, const uint8_t *start, const uint8_t *end, Context *child) {
  int set = context >= C_NESTED ? NESTED : DIRECT;
  const Key *key = find_key(set == NESTED ? context - NESTED_SHIFT : context, start, end);
  // the nested line is read as a line, but its own `data` is not
  if (!key || (set == NESTED && key->field == F_DATA)) return NULL;
  *child = set == NESTED && key->child != C_OTHER ? key->child + NESTED_SHIFT : key->child;
  return &ps->fields[set][key->field];
}

static int parse_object(Parser *ps, Context context, int depth) {
  ps->p++;
  skip_space(ps);
  if (ps->p < ps->end && *ps->p == '}') { ps->p++; return 1; }
  for (;;) {
    if (ps->p >= ps->end || *ps->p != '"') return 0;
    const uint8_t *key_start, *key_end;
    int plain_key;
    if (!parse_string(ps, &key_start, &key_end, &plain_key)) return 0;
    Field *into = NULL;
    Context child = C_OTHER;
    if (context != C_OTHER) {
      // an escaped key may spell one the rules read
      if (!plain_key) ps->unsure = 1;
      into = member(ps, context, key_start, key_end, &child);
      // JSON.parse keeps the last of duplicate keys
      if (into && into->seen++) ps->unsure = 1;
    }
    skip_space(ps);
    if (ps->p >= ps->end || *ps->p != ':') return 0;
    ps->p++;
    skip_space(ps);
    if (!parse_value(ps, child, into, depth + 1)) return 0;
    skip_space(ps);
    if (ps->p >= ps->end) return 0;
    if (*ps->p == ',') { ps->p++; skip_space(ps); continue; }
    if (*ps->p == '}') { ps->p++; return 1; }
    return 0;
  }
}

static int parse_array(Parser *ps, int depth) {
  ps->p++;
  skip_space(ps);
  if (ps->p < ps->end && *ps->p == ']') { ps->p++; return 1; }
  for (;;) {
    if (!parse_value(ps, C_OTHER, NULL, depth + 1)) return 0;
    skip_space(ps);
    if (ps->p >= ps->end) return 0;
    if (*ps->p == ',') { ps->p++; skip_space(ps); continue; }
    if (*ps->p == ']') { ps->p++; return 1; }
    return 0;
  }
}

/* At the first byte of a value. `into`: the field it fills, if the rules read it. */
static int parse_value(Parser *ps, Context context, Field *into, int depth) {
  if (depth > MAX_DEPTH || ps->p >= ps->end) return 0;
  switch (*ps->p) {
    case '{':
      if (into) into->type = T_OBJECT;
      return parse_object(ps, into ? context : C_OTHER, depth);
    case '[':
      if (into) into->type = T_ARRAY;
      return parse_array(ps, depth);
    case '"': {
      const uint8_t *start, *end;
      int plain;
      if (!parse_string(ps, &start, &end, &plain)) return 0;
      if (into) { into->type = T_STRING; into->plain = (uint8_t)plain; into->start = start; into->end = end; }
      return 1;
    }
    case 't':
      if (into) into->type = T_TRUE;
      return literal(ps, "true", 4);
    case 'f':
      if (into) into->type = T_FALSE;
      return literal(ps, "false", 5);
    case 'n':
      if (into) into->type = T_NULL;
      return literal(ps, "null", 4);
    default:
      return parse_number(ps, into);
  }
}

/* The next `needle` at or after p: its first and last bytes compared sixteen places a step. */
static const uint8_t *find(const uint8_t *p, const uint8_t *end, const char *needle, size_t length) {
#if defined(__SSE2__)
  const __m128i first = _mm_set1_epi8(needle[0]), last = _mm_set1_epi8(needle[length - 1]);
  while ((size_t)(end - p) >= 16 + length - 1) {
    const __m128i a = _mm_loadu_si128((const __m128i *)p);
    const __m128i b = _mm_loadu_si128((const __m128i *)(p + length - 1));
    unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last)));
    while (mask) {
      const unsigned bit = (unsigned)__builtin_ctz(mask);
      if (memcmp(p + bit + 1, needle + 1, length - 2) == 0) return p + bit;
      mask &= mask - 1;
    }
    p += 16;
  }
#endif
  return memmem(p, (size_t)(end - p), needle, length);
}

/* --- the rules of line.ts, for the common shape only --- */

static const char *const NULL_REJECTED[] = {
  "id", "cwd", "model", "speed", "costUSD", "version", "sessionId", "requestId", "isApiErrorMessage",
  "cache_read_input_tokens", "cache_creation_input_tokens",
};

/* line.ts hasUnsupportedNull, byte for byte; any hit (even `model`, which it may excuse) means FALLBACK. */
static int has_rejected_null(const uint8_t *line, const uint8_t *end) {
  const uint8_t *from = line;
  for (;;) {
    const uint8_t *at = find(from, end, ":null", 5);
    if (!at) return 0;
    from = at + 5;
    const uint8_t *field_end = at > line ? at - 1 : line;
    if (*field_end != '"') while (field_end > line && *field_end != '"') field_end--;
    if (*field_end != '"') continue;
    const uint8_t *field_start = field_end > line ? field_end - 1 : line;
    while (field_start > line && *field_start != '"') field_start--;
    if (*field_start != '"' || field_start + 1 > field_end) continue;
    size_t length = (size_t)(field_end - field_start - 1);
    for (size_t i = 0; i < sizeof NULL_REJECTED / sizeof NULL_REJECTED[0]; i++) {
      if (strlen(NULL_REJECTED[i]) == length && memcmp(NULL_REJECTED[i], field_start + 1, length) == 0) return 1;
    }
  }
}

static int digits(const uint8_t *p, int count, int *value) {
  int v = 0;
  for (int i = 0; i < count; i++) {
    if (!digit(p[i])) return 0;
    v = v * 10 + (p[i] - '0');
  }
  *value = v;
  return 1;
}

static int days_in_month(int year, int month) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
  return days[month - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* timestamp.ts parseTranscriptTimestamp; 0 when it is not sure (it returns null there, or a year below 100). */
static int parse_timestamp(const uint8_t *t, size_t length, double *ms) {
  int zone_at, millis = 0;
  if (length < 20) return 0;
  if ((length == 20 || length == 25) && (t[19] == 'Z' || t[19] == '+' || t[19] == '-')) {
    zone_at = 19;
  } else if ((length == 24 || length == 29) && t[19] == '.') {
    if (!digits(t + 20, 3, &millis)) return 0;
    zone_at = 23;
  } else {
    return 0;
  }
  if (t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':') return 0;
  int year, month, day, hour, minute, second;
  if (!digits(t, 4, &year) || !digits(t + 5, 2, &month) || !digits(t + 8, 2, &day) || !digits(t + 11, 2, &hour) ||
      !digits(t + 14, 2, &minute) || !digits(t + 17, 2, &second)) return 0;
  if (year < 100 || hour > 23 || minute > 59 || second > 59 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return 0;
  int offset = 0;
  const uint8_t *zone = t + zone_at;
  size_t zone_length = length - (size_t)zone_at;
  if (zone_length == 1 && zone[0] == 'Z') {
    offset = 0;
  } else {
    int sign = zone[0] == '+' ? 1 : zone[0] == '-' ? -1 : 0;
    int hours, minutes;
    if (zone_length != 6 || zone[3] != ':' || sign == 0 || !digits(zone + 1, 2, &hours) || !digits(zone + 4, 2, &minutes) || hours > 23 || minutes > 59) return 0;
    offset = sign * (hours * 60 + minutes);
  }
  int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  *ms = (double)(seconds * 1000 + millis - (int64_t)offset * 60000);
  return 1;
}

/* hash.ts hash53 over an ASCII string (its UTF-16 code units are its bytes). */
static double hash53(const uint8_t *p, const uint8_t *end, uint32_t seed) {
  uint32_t h1 = 0xdeadbeefu ^ seed, h2 = 0x41c6ce57u ^ seed;
  for (; p < end; p++) {
    h1 = (h1 ^ *p) * 2654435761u;
    h2 = (h2 ^ *p) * 1597334677u;
  }
  h1 = (h1 ^ (h1 >> 16)) * 2246822507u;
  h1 ^= (h2 ^ (h2 >> 13)) * 3266489909u;
  h2 = (h2 ^ (h2 >> 16)) * 2246822507u;
  h2 ^= (h1 ^ (h1 >> 13)) * 3266489909u;
  return 4294967296.0 * (double)(2097151u & h2) + (double)h1;
}

static int count(const Field *f, int optional, double *value) {
  if (f->type == T_ABSENT) { *value = 0; return optional; }
  if (f->type != T_NUMBER || !f->plain) return 0;
  double v = 0;
  for (const uint8_t *p = f->start; p < f->end; p++) v = v * 10 + (*p - '0');
  *value = v;
  return 1;
}

/* absent or null: none (span -1); a plain non-empty string: its span; anything else: not sure. */
static int optional_id(const Field *f, const uint8_t *base, double *start, double *end) {
  if (f->type == T_ABSENT || f->type == T_NULL) { *start = -1; *end = -1; return 1; }
  if (f->type != T_STRING || !f->plain || f->start == f->end) return 0;
  *start = (double)(f->start - base);
  *end = (double)(f->end - base);
  return 1;
}

/* ccusage's version check, /^\d+\.\d+\.\d/ */
static int valid_version(const Field *f) {
  const uint8_t *p = f->start, *end = f->end;
  for (int part = 0; part < 2; part++) {
    if (p >= end || !digit(*p)) return 0;
    while (p < end && digit(*p)) p++;
    if (p >= end || *p != '.') return 0;
    p++;
  }
  return p < end && digit(*p);
}

static int equals(const Field *f, const char *text) {
  size_t length = strlen(text);
  return (size_t)(f->end - f->start) == length && memcmp(f->start, text, length) == 0;
}

/*
 * line.ts entryFields, readUsage, validEntry and finish over one set of fields: the line's own, or
 * (`direct` 0) the nested line of a progress line, which has no version and its parent's session.
 * Fills row[R_AT..]; 0 when line.ts must decide.
 */
static int read_fields(const Field *f, const Field *session, int direct, const uint8_t *base, double *row) {
  if (f[F_TIMESTAMP].type != T_STRING || !f[F_TIMESTAMP].plain) return 0;
  if (f[F_MESSAGE].type != T_OBJECT || f[F_USAGE].type != T_OBJECT || f[F_ITERATIONS].type != T_ABSENT) return 0;
  const Type sidechain = f[F_IS_SIDECHAIN].type;
  if (sidechain != T_ABSENT && sidechain != T_NULL && sidechain != T_TRUE && sidechain != T_FALSE) return 0;

  double input, output, flat_cache_write, cache_read, cache_5m, cache_1h = 0;
  if (!count(&f[F_INPUT], 0, &input) || !count(&f[F_OUTPUT], 0, &output) ||
      !count(&f[F_CACHE_CREATION_INPUT], 1, &flat_cache_write) || !count(&f[F_CACHE_READ_INPUT], 1, &cache_read)) return 0;
  // with the 5m/1h split present, ccusage counts the split, not the flat field
  cache_5m = flat_cache_write;
  const Type split = f[F_CACHE_CREATION].type;
  if (split == T_OBJECT) {
    if (!count(&f[F_EPHEMERAL_5M], 1, &cache_5m) || !count(&f[F_EPHEMERAL_1H], 1, &cache_1h)) return 0;
  } else if (split != T_ABSENT && split != T_NULL) {
    return 0;
  }
  int flags = sidechain == T_TRUE ? FLAG_SIDECHAIN : 0;
  const Field *speed = &f[F_SPEED];
  if (speed->type == T_STRING && speed->plain && (equals(speed, "standard") || equals(speed, "fast"))) {
    flags |= FLAG_HAS_SPEED | (equals(speed, "fast") ? FLAG_FAST : 0);
  } else if (speed->type != T_ABSENT) {
    return 0;
  }

  const Field *cost = &f[F_COST_USD];
  if (cost->type == T_NUMBER) {
    // JavaScript reads the number (Number() of the same token is what JSON.parse gives)
    row[R_COST_START] = (double)(cost->start - base);
    row[R_COST_END] = (double)(cost->end - base);
  } else if (cost->type == T_ABSENT || cost->type == T_NULL) {
    row[R_COST_START] = row[R_COST_END] = -1;
  } else {
    return 0;
  }
  if (direct) {
    double ignored;
    if (!optional_id(&f[F_VERSION], base, &ignored, &ignored)) return 0;
    if (f[F_VERSION].type == T_STRING && !valid_version(&f[F_VERSION])) return 0;
  }
  double message_start, message_end, request_start, request_end;
  if (!optional_id(&f[F_ID], base, &message_start, &message_end) || !optional_id(&f[F_REQUEST_ID], base, &request_start, &request_end) ||
      !optional_id(session, base, &row[R_SESSION_START], &row[R_SESSION_END]) ||
      !optional_id(&f[F_MODEL], base, &row[R_MODEL_START], &row[R_MODEL_END])) return 0;
  if (!parse_timestamp(f[F_TIMESTAMP].start, (size_t)(f[F_TIMESTAMP].end - f[F_TIMESTAMP].start), &row[R_AT])) return 0;

  // the caller makes a string of a session or model only the first time it sees its hash
  row[R_SESSION_HASH] = row[R_SESSION_START] < 0 ? NO_HASH : hash53(session->start, session->end, 2);
  row[R_MODEL_HASH] = row[R_MODEL_START] < 0 ? NO_HASH : hash53(f[F_MODEL].start, f[F_MODEL].end, 3);
  row[R_MESSAGE_HASH] = message_start < 0 ? NO_HASH : hash53(f[F_ID].start, f[F_ID].end, 0);
  row[R_REQUEST_HASH] = request_start < 0 ? NO_HASH : hash53(f[F_REQUEST_ID].start, f[F_REQUEST_ID].end, 1);
  row[R_INPUT] = input;
  row[R_OUTPUT] = output;
  row[R_CACHE_5M] = cache_5m;
  row[R_CACHE_1H] = cache_1h;
  row[R_CACHE_READ] = cache_read;
  row[R_FLAGS] = flags | (direct ? 0 : FLAG_DAILY_ONLY);
  return 1;
}

/* Fills row[R_AT..] for a line of a shape it knows; 0 when line.ts must decide. */
static int read_entry(const uint8_t *base, const uint8_t *line, const uint8_t *end, double *row) {
  if (has_rejected_null(line, end)) return 0;
  Parser ps;
  memset(&ps, 0, sizeof ps);
  ps.p = line;
  ps.end = end;
  skip_space(&ps);
  if (ps.p >= ps.end || *ps.p != '{') return 0;
  if (!parse_object(&ps, C_ROOT, 0)) return 0;
  skip_space(&ps);
  if (ps.p != ps.end || ps.unsure) return 0;

  const Field *f = ps.fields[DIRECT];
  if (f[F_MESSAGE].type != T_ABSENT) {
    // a rate-limit message (its reset time), or a type ccusage's reports disagree on
    const Type api_error = f[F_IS_API_ERROR].type;
    if (api_error != T_ABSENT && api_error != T_NULL && api_error != T_FALSE) return 0;
    return read_fields(f, &f[F_SESSION_ID], 1, base, row);
  }
  // no message of its own: a progress line, with a subagent's message in data.message
  if (f[F_DATA].type != T_OBJECT || f[F_DATA_MESSAGE].type != T_OBJECT) return 0;
  return read_fields(ps.fields[NESTED], &f[F_SESSION_ID], 0, base, row);
}

/*
 * scan(buffer, from, rows: Float64Array) -> number of rows filled. Each complete line at or after
 * `from` holding the marker gets a row, in order; it stops when `rows` is full (call again from
 * the last row's end + 1) or at a marked line with no newline yet.
 */
static napi_value scan(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    napi_throw_type_error(env, NULL, "scan(buffer, from, rows) takes three arguments");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length, row_count;
  void *data, *rows_data;
  double from_value;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array ||
      napi_get_value_double(env, argv[1], &from_value) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &type, &row_count, &rows_data, NULL, NULL) != napi_ok || type != napi_float64_array) {
    napi_throw_type_error(env, NULL, "scan(buffer: Uint8Array, from: number, rows: Float64Array)");
    return NULL;
  }
  const uint8_t *base = data, *end = base + length;
  size_t from = from_value > 0 ? (size_t)from_value : 0;
  const uint8_t *done = base + (from < length ? from : length);
  double *rows = rows_data;
  size_t capacity = row_count / ROW, filled = 0;
  while (filled < capacity) {
    const uint8_t *at = find(done, end, MARKER, MARKER_LENGTH);
    if (!at) break;
    const uint8_t *line_end = memchr(at, '\n', (size_t)(end - at));
    if (!line_end) break;
    const uint8_t *previous = memrchr(done, '\n', (size_t)(at - done));
    const uint8_t *line = previous ? previous + 1 : done;
    double *row = rows + filled * ROW;
    row[R_STATUS] = read_entry(base, line, line_end, row) ? STATUS_ENTRY : STATUS_FALLBACK;
    row[R_START] = (double)(line - base);
    row[R_END] = (double)(line_end - base);
    filled++;
    done = line_end + 1;
  }
  napi_value result;
  napi_create_uint32(env, (uint32_t)filled, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "scan", NAPI_AUTO_LENGTH, scan, NULL, &fn);
  napi_set_named_property(env, exports, "scan", fn);
  napi_value row;
  napi_create_uint32(env, ROW, &row);
  napi_set_named_property(env, exports, "rowLength", row);
  return exports;
}
