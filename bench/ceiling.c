/*
 * The C counterpart of bench/ceiling-loop.ts: the same minimal decode and flow table, statement for
 * statement (same capacity, hash, probing, eviction, counters), so that the two differ only in the
 * language. bench/ceiling.ts compiles it with `cc -O2` when a compiler is installed.
 *
 *   cc -O2 -o /tmp/ceiling bench/ceiling.c && /tmp/ceiling F.pcap [capacity]
 *
 * Prints [packets, flows, evicted, other, checksum] like the JavaScript loop (capacity: table slots,
 * a power of two, default 262144).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CAPACITY 262144
#define KEY_WORDS 12
#define CHUNK (2 * 1024 * 1024)
/* Room for the record cut at the end of a chunk, carried in front of the next one. */
#define HEADROOM (256 * 1024)

static int32_t idx[MAX_CAPACITY * 2];
static int32_t keys[MAX_CAPACITY * KEY_WORDS];
static int32_t hashes[MAX_CAPACITY];
static double counts[MAX_CAPACITY * 5];
static uint8_t flags[MAX_CAPACITY];
static int32_t prv[MAX_CAPACITY];
static int32_t nxt[MAX_CAPACITY];
static uint8_t buf[HEADROOM + CHUNK];

static inline int32_t be32(const uint8_t *b) {
  return (int32_t)(((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3]);
}
static inline uint32_t le32(const uint8_t *b) {
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}
static inline int32_t imul(int32_t a, uint32_t b) { return (int32_t)((uint32_t)a * b); }

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: ceiling F.pcap [capacity]\n"); return 2; }
  const int32_t CAPACITY = argc > 2 ? atoi(argv[2]) : MAX_CAPACITY;
  if (CAPACITY < 16 || CAPACITY > MAX_CAPACITY || (CAPACITY & (CAPACITY - 1)) != 0) {
    fprintf(stderr, "capacity: a power of two from 16 to %d\n", MAX_CAPACITY);
    return 2;
  }
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) { perror(argv[1]); return 1; }
  const uint32_t mask = (uint32_t)CAPACITY * 2 - 1;
  int32_t head = -1, tail = -1, used = 0;
  double created = 0, evicted = 0, packets = 0, other = 0;
  ssize_t filled = read(fd, buf, CHUNK);
  uint32_t magic = filled >= 24 ? le32(buf) : 0;
  if (magic != 0xa1b2c3d4u && magic != 0xa1b23c4du) { fprintf(stderr, "%s: only little-endian pcap files\n", argv[1]); return 1; }
  ssize_t p = 24;
  for (;;) {
    while (filled - p >= 16) {
      int32_t sec = (int32_t)le32(buf + p);
      uint32_t capLen = le32(buf + p + 8);
      uint32_t origLen = le32(buf + p + 12);
      if ((size_t)(filled - p) < 16 + (size_t)capLen) break;
      ssize_t f = p + 16;
      p = f + capLen;
      packets++;
      if (capLen < 14) { other++; continue; }
      uint32_t type = ((uint32_t)buf[f + 12] << 8) | buf[f + 13];
      ssize_t l3 = f + 14;
      int32_t vlan = 0;
      if (type == 0x8100 || type == 0x88a8) {
        vlan = 0x1000000 | (((((uint32_t)buf[l3] << 8) | buf[l3 + 1]) & 0xfff) << 12);
        type = ((uint32_t)buf[l3 + 2] << 8) | buf[l3 + 3];
        l3 += 4;
        if (type == 0x8100) {
          vlan = (vlan + 0x1000000) | ((((uint32_t)buf[l3] << 8) | buf[l3 + 1]) & 0xfff);
          type = ((uint32_t)buf[l3 + 2] << 8) | buf[l3 + 3];
          l3 += 4;
        }
      }
      int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      int32_t proto;
      ssize_t l4;
      ssize_t end = f + capLen;
      if (type == 0x0800 && end - l3 >= 20) {
        proto = buf[l3 + 9];
        l4 = l3 + ((buf[l3] & 15) << 2);
        a3 = be32(buf + l3 + 12);
        b3 = be32(buf + l3 + 16);
      } else if (type == 0x86dd && end - l3 >= 40) {
        proto = buf[l3 + 6];
        l4 = l3 + 40;
        a0 = be32(buf + l3 + 8); a1 = be32(buf + l3 + 12); a2 = be32(buf + l3 + 16); a3 = be32(buf + l3 + 20);
        b0 = be32(buf + l3 + 24); b1 = be32(buf + l3 + 28); b2 = be32(buf + l3 + 32); b3 = be32(buf + l3 + 36);
      } else {
        other++;
        continue;
      }
      int32_t sp = 0, dp = 0, tcpFlags = 0;
      if ((proto == 6 || proto == 17) && end - l4 >= 4) {
        sp = ((int32_t)buf[l4] << 8) | buf[l4 + 1];
        dp = ((int32_t)buf[l4 + 2] << 8) | buf[l4 + 3];
        if (proto == 6 && end - l4 >= 14) tcpFlags = buf[l4 + 13];
      }
      int swap;
      if (a0 != b0) swap = (uint32_t)a0 > (uint32_t)b0;
      else if (a1 != b1) swap = (uint32_t)a1 > (uint32_t)b1;
      else if (a2 != b2) swap = (uint32_t)a2 > (uint32_t)b2;
      else if (a3 != b3) swap = (uint32_t)a3 > (uint32_t)b3;
      else swap = sp > dp;
      if (swap) {
        int32_t t = a0; a0 = b0; b0 = t;
        t = a1; a1 = b1; b1 = t;
        t = a2; a2 = b2; b2 = t;
        t = a3; a3 = b3; b3 = t;
        t = sp; sp = dp; dp = t;
      }
      int32_t ports = (int32_t)(((uint32_t)sp << 16) | (uint32_t)dp);
      int32_t h = imul(a3 ^ (int32_t)0x9e3779b9, 0x85ebca6bu) ^ imul(b3 ^ 0x7f4a7c15, 0xc2b2ae35u);
      h ^= imul(ports ^ (proto << 8), 0x27d4eb2fu);
      if ((a0 | a1 | a2 | b0 | b1 | b2) != 0) {
        h ^= imul(a0 ^ imul(a1, 0x165667b1u) ^ imul(a2, 0xd3a2646cu), 0x9e3779b1u);
        h ^= imul(b0 ^ imul(b1, 0xfd7046c5u) ^ imul(b2, 0xb55a4f09u), 0x85ebca77u);
      }
      if (vlan != 0) h ^= imul(vlan, 0x1b873593u);
      h ^= (int32_t)((uint32_t)h >> 16);
      h = imul(h, 0x7feb352du);
      h ^= (int32_t)((uint32_t)h >> 15);
      uint32_t i = (uint32_t)h & mask;
      int32_t slot = -1;
      for (;;) {
        int32_t e = idx[i];
        if (e == 0) break;
        int32_t *k = keys + (size_t)(e - 1) * KEY_WORDS;
        if (hashes[e - 1] == h && k[8] == ports && k[3] == a3 && k[7] == b3 && k[9] == proto && k[10] == vlan && k[0] == a0 &&
            k[1] == a1 && k[2] == a2 && k[4] == b0 && k[5] == b1 && k[6] == b2) {
          slot = e - 1;
          break;
        }
        i = (i + 1) & mask;
      }
      if (slot < 0) {
        if (used == CAPACITY) {
          slot = head;
          head = nxt[slot];
          prv[head] = -1;
          evicted++;
          uint32_t j = (uint32_t)hashes[slot] & mask;
          while (idx[j] != slot + 1) j = (j + 1) & mask;
          for (;;) {
            idx[j] = 0;
            uint32_t n = j;
            int moved = 0;
            for (;;) {
              n = (n + 1) & mask;
              int32_t e = idx[n];
              if (e == 0) break;
              uint32_t home = (uint32_t)hashes[e - 1] & mask;
              if (j <= n ? (home <= j || home > n) : (home <= j && home > n)) {
                idx[j] = e;
                j = n;
                moved = 1;
                break;
              }
            }
            if (!moved) break;
          }
        } else {
          slot = used++;
        }
        uint32_t j = (uint32_t)h & mask;
        while (idx[j] != 0) j = (j + 1) & mask;
        idx[j] = slot + 1;
        hashes[slot] = h;
        int32_t *k = keys + (size_t)slot * KEY_WORDS;
        k[0] = a0; k[1] = a1; k[2] = a2; k[3] = a3; k[4] = b0; k[5] = b1; k[6] = b2; k[7] = b3;
        k[8] = ports; k[9] = proto; k[10] = vlan;
        double *c = counts + (size_t)slot * 5;
        c[0] = 0; c[1] = 0; c[2] = 0; c[3] = 0;
        flags[slot] = 0;
        created++;
        prv[slot] = tail;
        nxt[slot] = -1;
        if (tail >= 0) nxt[tail] = slot;
        else head = slot;
        tail = slot;
      } else if (slot != tail) {
        int32_t pv = prv[slot], nx = nxt[slot];
        if (pv >= 0) nxt[pv] = nx;
        else head = nx;
        prv[nx] = pv;
        prv[slot] = tail;
        nxt[slot] = -1;
        nxt[tail] = slot;
        tail = slot;
      }
      double *c = counts + (size_t)slot * 5 + (swap ? 1 : 0);
      c[0] += 1;
      c[2] += origLen;
      counts[(size_t)slot * 5 + 4] = sec;
      flags[slot] |= (uint8_t)tcpFlags;
    }
    ssize_t rest = filled - p;
    if (rest > HEADROOM) { fprintf(stderr, "%s: a record larger than %d bytes\n", argv[1], HEADROOM); return 1; }
    memmove(buf, buf + p, (size_t)rest);
    p = 0;
    ssize_t n = read(fd, buf + rest, CHUNK);
    if (n < 0) { perror(argv[1]); return 1; }
    if (n == 0) break;
    filled = rest + n;
  }
  close(fd);
  double sum = 0;
  for (int32_t s = 0; s < used; s++) sum += counts[(size_t)s * 5] + counts[(size_t)s * 5 + 1] + flags[s];
  printf("[%.0f,%.0f,%.0f,%.0f,%.0f]\n", packets, created, evicted, other, sum);
  return 0;
}
