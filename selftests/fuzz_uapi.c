// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_uapi - a seeded, bounded fuzzer of /dev/kvmwarden.
 *
 * Several threads drive every ioctl of include/uapi/linux/kvmwarden.h
 * (the table fuzz_ioctls[], one line per ioctl), unknown commands and
 * commands with wrong direction or size bits, read() and poll(), with
 * struct sizes, flags, reserved fields, tail bytes, element sizes,
 * capacities and pointers at and around their boundaries: NULL, a
 * PROT_NONE reservation, a read-only page, a buffer that runs into a
 * guard page, misaligned, kernel and non-canonical addresses (a third of
 * the ioctls are "tame": only placements, capacities and vm_id hostile,
 * so that ioctls with three arrays reach their answers). Meanwhile
 * other threads create and destroy VMs whose vCPUs run guest programs,
 * and the main thread unloads and reloads the module every
 * KVMW_FUZZ_RELOAD_MS (the fuzzing threads close their files for that;
 * opens racing with the unload and unloads refused because a file is
 * open are counted, both are expected).
 *
 * Every call is judged against the documented contract
 * (Documentation/uapi.rst):
 *  - the errno is one the inputs allow: an unreadable size field gives
 *    EFAULT, a size out of range EINVAL; otherwise each invalid input
 *    (flags, reserved, element size, a non-zero tail, an argument that
 *    runs into unreadable memory) allows its own errno and forbids
 *    success; valid inputs allow success, E2BIG (capacity), ENOENT (vm_id),
 *    ENOMEM, and EFAULT only when some buffer is not writable; unknown
 *    commands give ENOTTY;
 *  - nothing is written outside the declared bytes: guard pages end the
 *    buffers and canary bytes surround them; a failed call writes no
 *    array, E2BIG writes back counts larger than a capacity, a success
 *    writes at most its count of elements and zero-fills each element
 *    past the kernel's own size; input fields come back unchanged;
 *  - answers are sane: no kernel-pointer-looking word (in the records of
 *    KVMW_IOC_STATS_READ, only in their headers: values are free-form),
 *    vm ids in [1, 2^32), pids and tids within PID_MAX_LIMIT, cross
 *    references within the answer, statistics descriptors and counts
 *    equal to those read at start-up (their record sizes, learnt there,
 *    are the "known" sizes of the STATS_READ records), event records
 *    whole and in sequence;
 *  - a "valid call" per ioctl, made now and then and after every reload,
 *    must succeed;
 *  - the budget ioctls (KVMW_IOC_BUDGET_SET, _GET) against a model of
 *    their contract (Documentation/budgets.rst): each fuzzing thread owns
 *    a VM (a new one after every reload) and SETs random budgets on it
 *    (sizes, tails, flags, modes, bucket counts and scopes, rates, bursts,
 *    credits, park and guard values at and around their limits, vm ids
 *    0, unknown and of other VMs, the read-only file, CAP_SYS_ADMIN
 *    dropped from the thread, unreadable arguments). The model decides
 *    the errno; a call that fails changes nothing (GET before and after
 *    equal), a SET that succeeds reads back exactly as the model says
 *    (defaults filled in, the credit left of a bucket of the same scope).
 * Kernel splats fail the run in scripts/vmtest.sh anyway. While allocation
 * failures are injected (failslab or fail_page_alloc armed in debugfs, as
 * scripts/failslab.sh does on the debug kernel), ENOMEM is also accepted
 * from valid calls, open() and read(), and the module is not reloaded.
 *
 * Environment:
 *   KVMW_FUZZ_SEED       PRNG seed (default: from the clock); printed, and
 *                        thread i uses seed + i, so each thread's sequence
 *                        of calls is reproducible (timing is not)
 *   KVMW_FUZZ_CALLS      stop after this many calls (default 150000)
 *   KVMW_FUZZ_SECONDS    stop after this many seconds (default 30)
 *   KVMW_FUZZ_THREADS    fuzzing threads (default 4)
 *   KVMW_FUZZ_CHURN      threads creating and destroying VMs (default 1)
 *   KVMW_FUZZ_RELOAD_MS  unload and reload period, 0 for none (default 6000;
 *                        0 while allocation failures are injected)
 *   KVMW_MODULE          the module to reload (see kvmw_module_path())
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>

#include <kvmwarden/categories.h>

#include "kselftest_harness.h"
#include "kvm_util.h"
#include "kvmw_util.h"

#define KPAGE		4096U		/* the kernel's PAGE_SIZE on x86 */
#define PID_MAX		4194304U	/* PID_MAX_LIMIT on 64-bit */
#define ARG_RW		(3 * KPAGE)	/* argument buffer, then a guard */
#define ARR_RW		(16 * KPAGE)	/* each array buffer, then a guard */
#define NR_ARENAS	3
#define MARGIN		256		/* canary bytes checked around buffers */
#define CANARY		0xa5
#define NR_IDS		64		/* vm ids remembered for VM_SNAPSHOT */
#define NR_LOG		16		/* failures printed in full */
#define FULL_SCAN	128		/* calls between full canary scans */
#define EVENT_READ_MAX	32		/* records per read(), uapi.rst */

#define DEF_CALLS	150000
#define DEF_SECONDS	30
#define DEF_THREADS	4
#define DEF_CHURN	1
#define DEF_RELOAD_MS	6000

/* ---- PRNG: xorshift64*, seeded through splitmix64 ---- */

struct rng {
	uint64_t s;
};

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	r->s = splitmix64(seed) | 1;
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, n), 0 for n == 0. */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* True with probability num / den. */
static bool rng_chance(struct rng *r, uint32_t num, uint32_t den)
{
	return rng_below(r, den) < num;
}

/* ---- counters: per operation, per errno class ---- */

static const int err_classes[] = {
	0, EINVAL, EFAULT, E2BIG, ENOENT, ENOTTY, ENOMEM, EAGAIN, EINTR,
	EPERM, EACCES, EBUSY, ENODEV, ENXIO, EBADF,
};

#define NR_ERR	(ARRAY_SIZE(err_classes) + 1)	/* last: any other */

static unsigned int err_class(int err)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(err_classes); i++)
		if (err_classes[i] == err)
			return i;
	return NR_ERR - 1;
}

static const char *err_name(unsigned int cls)
{
	static const char *const names[NR_ERR] = {
		"ok", "EINVAL", "EFAULT", "E2BIG", "ENOENT", "ENOTTY",
		"ENOMEM", "EAGAIN", "EINTR", "EPERM", "EACCES", "EBUSY",
		"ENODEV", "ENXIO", "EBADF", "other",
	};

	return names[cls];
}

/* ---- the ioctl table ---- */

enum elem_kind {
	ELEM_VM_INFO,
	ELEM_VCPU,
	ELEM_REASON,
	ELEM_VM_ENTRY,
	ELEM_STAT_DESC,
	ELEM_VM_REC,
	ELEM_VCPU_REC,
	ELEM_REASON_REC,
	NR_ELEM,
};

/*
 * An element type. The records of KVMW_IOC_STATS_READ are a fixed header
 * and the values of their scope, whose number the module tells at run
 * time: their @known and @vers are filled in by layout_init() from
 * KVMW_IOC_STATS_DESC, and only their header (@scan bytes) is scanned
 * for kernel pointers, the values being free-form numbers.
 */
struct elem_type {
	const char *name;
	uint32_t ver0;
	uint32_t known;		/* the size this header (and the module) has */
	uint32_t vers[5];	/* every *_SIZE_VERn, 0-terminated */
	uint32_t scan;		/* bytes scanned for pointers, 0: @known */
};

static struct elem_type elem_types[NR_ELEM] = {
	[ELEM_VM_INFO] = { "vm_info", KVMW_VM_INFO_SIZE_VER0,
			   sizeof(struct kvmw_vm_info),
			   { KVMW_VM_INFO_SIZE_VER0 } },
	[ELEM_VCPU] = { "vcpu_info", KVMW_VCPU_INFO_SIZE_VER0,
			sizeof(struct kvmw_vcpu_info),
			{ KVMW_VCPU_INFO_SIZE_VER0, KVMW_VCPU_INFO_SIZE_VER1,
			  KVMW_VCPU_INFO_SIZE_VER2,
			  KVMW_VCPU_INFO_SIZE_VER3 } },
	[ELEM_REASON] = { "reason_stat", KVMW_REASON_STAT_SIZE_VER0,
			  sizeof(struct kvmw_reason_stat),
			  { KVMW_REASON_STAT_SIZE_VER0,
			    KVMW_REASON_STAT_SIZE_VER1 } },
	[ELEM_VM_ENTRY] = { "vm_entry", KVMW_VM_ENTRY_SIZE_VER0,
			    sizeof(struct kvmw_vm_entry),
			    { KVMW_VM_ENTRY_SIZE_VER0 } },
	[ELEM_STAT_DESC] = { "stat_desc", KVMW_STAT_DESC_SIZE_VER0,
			     sizeof(struct kvmw_stat_desc),
			     { KVMW_STAT_DESC_SIZE_VER0 } },
	[ELEM_VM_REC] = { "vm_rec", KVMW_VM_REC_HDR_SIZE, 0, {},
			  KVMW_VM_REC_HDR_SIZE },
	[ELEM_VCPU_REC] = { "vcpu_rec", KVMW_VCPU_REC_HDR_SIZE, 0, {},
			    KVMW_VCPU_REC_HDR_SIZE },
	[ELEM_REASON_REC] = { "reason_rec", KVMW_REASON_REC_HDR_SIZE, 0, {},
			      KVMW_REASON_REC_HDR_SIZE },
};

/*
 * The statistics layout as KVMW_IOC_STATS_DESC gave it at start-up. It
 * does not change while the module is loaded, nor across reloads of the
 * same module on the same host: every later answer must equal it.
 */
static struct {
	struct kvmw_stats_desc hdr;
	struct kvmw_stat_desc *descs;
	uint32_t reason_exits;	/* value index of the reason scope's "exits" */
} layout;

/* An output array: user pointer, element size, capacity, count out. */
struct fuzz_array {
	uint16_t ptr_off;
	uint16_t size_off;
	uint16_t cap_off;
	uint16_t count_off;
	enum elem_kind kind;
};

#define FUZZ_ARRAY(s, ptr, esize, cap, count, k) \
	{ offsetof(struct s, ptr), offsetof(struct s, esize), \
	  offsetof(struct s, cap), offsetof(struct s, count), k }

#define FI_VM_ID	(1U << 0)	/* ENOENT for an unknown vm_id */
#define FI_WRITE	(1U << 1)	/* EPERM/EACCES on a read-only file */
#define FI_ID_ALL	(1U << 2)	/* vm_id 0 means every VM, no ENOENT */

struct fuzz_thread;

/**
 * struct fuzz_ioctl - one ioctl of the UAPI header
 * @name: printed name
 * @cmd: the command as the header defines it
 * @ver0: *_SIZE_VER0 of its argument
 * @known: sizeof() of its argument in this header
 * @vers: every *_SIZE_VERn of the argument, 0-terminated
 * @reserved: offsets of __u32 reserved fields, 0-terminated (0 is the
 *	size field, never reserved)
 * @id_off: offset of a __u64 vm_id input, 0 for none
 * @flags: FI_*
 * @nr_arrays: entries of @arrays
 * @arrays: its output arrays
 * @valid: a correct call, which must succeed; 0 or -1 (failure recorded)
 */
struct fuzz_ioctl {
	const char *name;
	unsigned long cmd;
	uint32_t ver0;
	uint32_t known;
	uint32_t vers[4];
	uint16_t reserved[3];
	uint16_t id_off;
	unsigned int flags;
	unsigned int nr_arrays;
	struct fuzz_array arrays[NR_ARENAS];
	int (*valid)(struct fuzz_thread *t, int fd);
};

static int valid_handshake(struct fuzz_thread *t, int fd);
static int valid_list(struct fuzz_thread *t, int fd);
static int valid_snapshot(struct fuzz_thread *t, int fd);
static int valid_snapshot_all(struct fuzz_thread *t, int fd);
static int valid_stats_desc(struct fuzz_thread *t, int fd);
static int valid_stats_read(struct fuzz_thread *t, int fd);

/* Lines of fuzz_ioctls[], for the counters of the valid calls. */
enum {
	IO_HANDSHAKE,
	IO_LIST_VMS,
	IO_VM_SNAPSHOT,
	IO_SNAPSHOT_ALL,
	IO_STATS_DESC,
	IO_STATS_READ,
};

/* One line per ioctl: a new ioctl of the header is one more line here. */
static const struct fuzz_ioctl fuzz_ioctls[] = {
	{ "HANDSHAKE", KVMW_IOC_HANDSHAKE, KVMW_HANDSHAKE_SIZE_VER0,
	  sizeof(struct kvmw_handshake), { KVMW_HANDSHAKE_SIZE_VER0 },
	  { offsetof(struct kvmw_handshake, reserved) }, 0, 0, 0, {},
	  valid_handshake },
	{ "LIST_VMS", KVMW_IOC_LIST_VMS, KVMW_VM_LIST_SIZE_VER0,
	  sizeof(struct kvmw_vm_list), { KVMW_VM_LIST_SIZE_VER0 },
	  { offsetof(struct kvmw_vm_list, reserved) }, 0, 0, 1,
	  { FUZZ_ARRAY(kvmw_vm_list, vms_ptr, vm_info_size, max_vms, nr_vms,
		       ELEM_VM_INFO) },
	  valid_list },
	{ "VM_SNAPSHOT", KVMW_IOC_VM_SNAPSHOT, KVMW_VM_SNAPSHOT_SIZE_VER0,
	  sizeof(struct kvmw_vm_snapshot),
	  { KVMW_VM_SNAPSHOT_SIZE_VER0, KVMW_VM_SNAPSHOT_SIZE_VER1 },
	  {}, offsetof(struct kvmw_vm_snapshot, vm_id), FI_VM_ID, 2,
	  { FUZZ_ARRAY(kvmw_vm_snapshot, vcpus_ptr, vcpu_info_size,
		       max_vcpus, nr_vcpus, ELEM_VCPU),
	    FUZZ_ARRAY(kvmw_vm_snapshot, reasons_ptr, reason_stat_size,
		       max_reasons, nr_reasons, ELEM_REASON) },
	  valid_snapshot },
	{ "SNAPSHOT_ALL", KVMW_IOC_SNAPSHOT_ALL, KVMW_SNAPSHOT_ALL_SIZE_VER0,
	  sizeof(struct kvmw_snapshot_all), { KVMW_SNAPSHOT_ALL_SIZE_VER0 },
	  { offsetof(struct kvmw_snapshot_all, reserved) }, 0, 0, 3,
	  { FUZZ_ARRAY(kvmw_snapshot_all, vms_ptr, vm_entry_size, max_vms,
		       nr_vms, ELEM_VM_ENTRY),
	    FUZZ_ARRAY(kvmw_snapshot_all, vcpus_ptr, vcpu_info_size,
		       max_vcpus, nr_vcpus, ELEM_VCPU),
	    FUZZ_ARRAY(kvmw_snapshot_all, reasons_ptr, reason_stat_size,
		       max_reasons, nr_reasons, ELEM_REASON) },
	  valid_snapshot_all },
	{ "STATS_DESC", KVMW_IOC_STATS_DESC, KVMW_STATS_DESC_SIZE_VER0,
	  sizeof(struct kvmw_stats_desc), { KVMW_STATS_DESC_SIZE_VER0 },
	  { offsetof(struct kvmw_stats_desc, reserved) }, 0, 0, 1,
	  { FUZZ_ARRAY(kvmw_stats_desc, descs_ptr, desc_size, max_descs,
		       nr_descs, ELEM_STAT_DESC) },
	  valid_stats_desc },
	{ "STATS_READ", KVMW_IOC_STATS_READ, KVMW_STATS_READ_SIZE_VER0,
	  sizeof(struct kvmw_stats_read), { KVMW_STATS_READ_SIZE_VER0 },
	  { offsetof(struct kvmw_stats_read, reserved) },
	  offsetof(struct kvmw_stats_read, vm_id), FI_VM_ID | FI_ID_ALL, 3,
	  { FUZZ_ARRAY(kvmw_stats_read, vms_ptr, vm_rec_size, max_vms,
		       nr_vms, ELEM_VM_REC),
	    FUZZ_ARRAY(kvmw_stats_read, vcpus_ptr, vcpu_rec_size, max_vcpus,
		       nr_vcpus, ELEM_VCPU_REC),
	    FUZZ_ARRAY(kvmw_stats_read, reasons_ptr, reason_rec_size,
		       max_reasons, nr_reasons, ELEM_REASON_REC) },
	  valid_stats_read },
};

static_assert(IO_STATS_READ + 1 == ARRAY_SIZE(fuzz_ioctls),
	      "IO_* name the lines of fuzz_ioctls[]");

#define NR_IOCTLS	ARRAY_SIZE(fuzz_ioctls)

/* Rows of the counters: fuzzed and valid calls per ioctl, then these. */
enum {
	ROW_BADCMD = 2 * NR_IOCTLS,
	ROW_READ,
	ROW_POLL,
	ROW_OPEN,
	ROW_OPEN_DRAIN,
	ROW_RMMOD_OPEN,
	ROW_RMMOD,
	ROW_BUDGET_SET,
	ROW_BUDGET_GET,
	NR_ROWS,
};

static void row_name(unsigned int row, char *buf, size_t size)
{
	static const char *const names[] = {
		"bad command", "read()", "poll()", "open()",
		"open() during unload", "rmmod with files open",
		"rmmod after close", "BUDGET_SET", "BUDGET_GET",
	};

	if (row < NR_IOCTLS)
		snprintf(buf, size, "%s", fuzz_ioctls[row].name);
	else if (row < 2 * NR_IOCTLS)
		snprintf(buf, size, "%s (valid)",
			 fuzz_ioctls[row - NR_IOCTLS].name);
	else
		snprintf(buf, size, "%s", names[row - ROW_BADCMD]);
}

/* ---- shared state ---- */

enum { PHASE_RUN, PHASE_DRAIN };

struct fuzz {
	uint64_t seed;
	uint64_t max_calls;
	double deadline_ms;
	unsigned int nr_threads;
	unsigned int nr_churn;
	unsigned int reload_ms;
	const char *path;
	int stop;
	uint64_t calls;
	int phase;
	unsigned int gen;
	unsigned int acks;
	uint64_t ids[NR_IDS];
	pthread_mutex_t lock;
	unsigned int failures;
	unsigned int nr_log;
	char log[NR_LOG][768];
	uint64_t coord[NR_ROWS][NR_ERR];
	unsigned int reloads;
	unsigned int churn_vms;
	unsigned int churn_failed;
	bool inject;		/* allocation failures are being injected */
	bool kvm;		/* KVM can create VMs (for op_budget()) */
	char churn_msg[512];
};

struct fuzz_mem {
	uint8_t *arg;			/* ARG_RW bytes, then PROT_NONE */
	uint8_t *arr[NR_ARENAS];	/* ARR_RW bytes each, then PROT_NONE */
	uint8_t *rw_view;		/* a memfd page ... */
	uint8_t *ro_view;		/* ... mapped read-only too */
	uint8_t *none;			/* two PROT_NONE pages */
};

struct fuzz_thread {
	struct fuzz *f;
	unsigned int idx;
	pthread_t thread;
	struct rng rng;
	struct fuzz_mem m;
	int fd[2];		/* [0]: O_RDONLY | O_NONBLOCK, [1]: O_RDWR */
	uint64_t last_seq[2];	/* last event seq read on each, 0: none */
	timer_t timer;
	bool timer_ok;
	uint64_t ncalls;	/* calls made by this thread */
	unsigned int gen_seen;
	uint64_t stats[NR_ROWS][NR_ERR];
	uint8_t buf[2 * KPAGE];	/* argument as built */
	/* The thread's own VM for the budget ioctls (see op_budget()). */
	struct kvm_vm *bvm;
	uint64_t bvm_id;	/* 0: none in this generation */
	unsigned int bvm_gen;	/* the generation it was found in */
	struct kvmw_budget bcur; /* its budget as GET must return it */
	uint64_t bsets;		/* SETs that changed it */
	unsigned int bvms;	/* VMs made for it */
	unsigned int bmissed;	/* times it was not (yet) tracked */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

static bool stopping(struct fuzz *f)
{
	return __atomic_load_n(&f->stop, __ATOMIC_ACQUIRE);
}

/*
 * Whether allocation failures are being injected (failslab or
 * fail_page_alloc armed, as scripts/failslab.sh does on the debug kernel):
 * then ENOMEM is a correct answer of calls that are otherwise valid.
 */
static bool injecting(void)
{
	static const char *const attrs[] = {
		"/sys/kernel/debug/failslab/probability",
		"/sys/kernel/debug/fail_page_alloc/probability",
	};
	unsigned int i;
	bool on = false;

	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		FILE *fp = fopen(attrs[i], "r");
		unsigned long v = 0;

		if (!fp)
			continue;
		if (fscanf(fp, "%lu", &v) == 1 && v)
			on = true;
		fclose(fp);
	}
	return on;
}

/* An errno that injected allocation failures explain. */
static bool injected(struct fuzz_thread *t, int err)
{
	return err == ENOMEM && t->f->inject;
}

/* Count one call; stop everybody when the budget is used up. */
static void count_call(struct fuzz_thread *t, unsigned int row, int err)
{
	struct fuzz *f = t->f;

	t->stats[row][err_class(err)]++;
	t->ncalls++;
	if (__atomic_add_fetch(&f->calls, 1, __ATOMIC_RELAXED) >=
	    f->max_calls || now_ms() >= f->deadline_ms)
		__atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
}

static void record_failure(struct fuzz *f, const char *msg)
{
	pthread_mutex_lock(&f->lock);
	f->failures++;
	if (f->nr_log < NR_LOG)
		snprintf(f->log[f->nr_log++], sizeof(f->log[0]), "%s", msg);
	pthread_mutex_unlock(&f->lock);
}

static void __attribute__((format(printf, 2, 3)))
thread_fail(struct fuzz_thread *t, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "thread %u call %llu: ", t->idx,
		     (unsigned long long)t->ncalls);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	record_failure(t->f, msg);
}

/* ---- memory: buffers that end at guard pages, canaries ---- */

static uint8_t *map_guarded(size_t rw)
{
	uint8_t *p = mmap(NULL, rw + KPAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + rw, KPAGE, PROT_NONE)) {
		munmap(p, rw + KPAGE);
		return NULL;
	}
	memset(p, CANARY, rw);
	return p;
}

static int mem_init(struct fuzz_mem *m)
{
	int i, fd;

	m->arg = map_guarded(ARG_RW);
	for (i = 0; i < NR_ARENAS; i++)
		m->arr[i] = map_guarded(ARR_RW);
	m->none = mmap(NULL, 2 * KPAGE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = memfd_create("fuzz_uapi", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, KPAGE))
		return -1;
	m->rw_view = mmap(NULL, KPAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			  fd, 0);
	/* The read-only view is followed by a guard page too. */
	m->ro_view = mmap(NULL, 2 * KPAGE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->ro_view != MAP_FAILED)
		m->ro_view = mmap(m->ro_view, KPAGE, PROT_READ,
				  MAP_SHARED | MAP_FIXED, fd, 0);
	close(fd);
	if (!m->arg || m->none == MAP_FAILED || m->rw_view == MAP_FAILED ||
	    m->ro_view == MAP_FAILED)
		return -1;
	for (i = 0; i < NR_ARENAS; i++)
		if (!m->arr[i])
			return -1;
	return 0;
}

static void mem_free(struct fuzz_mem *m)
{
	int i;

	if (m->arg)
		munmap(m->arg, ARG_RW + KPAGE);
	for (i = 0; i < NR_ARENAS; i++)
		if (m->arr[i])
			munmap(m->arr[i], ARR_RW + KPAGE);
	if (m->none && m->none != MAP_FAILED)
		munmap(m->none, 2 * KPAGE);
	if (m->rw_view && m->rw_view != MAP_FAILED)
		munmap(m->rw_view, KPAGE);
	if (m->ro_view && m->ro_view != MAP_FAILED)
		munmap(m->ro_view, 2 * KPAGE);
}

static uint8_t canary_block[KPAGE];

/* Offset of the first byte of [p, p + n) that is not the canary, or -1. */
static long not_canary(const uint8_t *p, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < KPAGE ? n - i : KPAGE;
		if (memcmp(p + i, canary_block, k))
			break;
	}
	for (; i < n; i++)
		if (p[i] != CANARY)
			return i;
	return -1;
}

/* Where a buffer handed to the kernel lies. */
enum pkind {
	PK_START,	/* at the start of a read/write buffer */
	PK_MISALIGNED,	/* a few bytes into it, not 8-byte aligned */
	PK_TIGHT,	/* ending exactly at the guard page */
	PK_STRADDLE,	/* running into the guard page */
	PK_RO,		/* in a read-only page */
	PK_NULL,
	PK_NONE,	/* in a PROT_NONE reservation */
	PK_LOW,		/* below mmap_min_addr */
	PK_KERNEL,	/* kernel addresses */
	PK_NONCANON,	/* non-canonical or the last page of the space */
	NR_PK,
};

static const char *const pk_names[NR_PK] = {
	"start", "misaligned", "tight", "straddle", "ro", "null", "prot_none",
	"low", "kernel", "noncanonical",
};

/**
 * struct place - a buffer handed to the kernel
 * @kind: PK_*
 * @addr: the address passed
 * @p: our pointer to it when it is in our read/write buffer, else NULL
 * @rd: bytes readable from @addr
 * @wr: bytes writable from @addr
 */
struct place {
	enum pkind kind;
	uint64_t addr;
	uint8_t *p;
	size_t rd;
	size_t wr;
};

static enum pkind pick_kind(struct rng *r)
{
	static const uint8_t weights[NR_PK] = {
		[PK_START] = 36, [PK_MISALIGNED] = 5, [PK_TIGHT] = 22,
		[PK_STRADDLE] = 10, [PK_RO] = 8, [PK_NULL] = 5,
		[PK_NONE] = 4, [PK_LOW] = 2, [PK_KERNEL] = 5,
		[PK_NONCANON] = 3,
	};
	uint32_t x = rng_below(r, 100);
	int k;

	for (k = 0; k < NR_PK; k++) {
		if (x < weights[k])
			return k;
		x -= weights[k];
	}
	return PK_START;
}

/*
 * Place a buffer of @need bytes (0: unknown or irrelevant) in the
 * read/write region @base of @room bytes, or somewhere worse.
 */
static void place(struct fuzz_thread *t, struct place *pl, enum pkind kind,
		  uint8_t *base, size_t room, uint64_t need)
{
	static const uint64_t kernel[] = {
		0xffff888000000000ULL, 0xffffffff81000000ULL,
		0xffffffffc0000000ULL, 0xffffc90000000000ULL,
		0xffffffffff600000ULL,
	};
	static const uint64_t noncanon[] = {
		0x8000000000000000ULL, 0x0000800000000000ULL,
		0xfffffffffffff000ULL, 0xffffffffffffffffULL,
		0x7ffffffff000ULL,
	};
	struct rng *r = &t->rng;
	size_t off = 0, k;

	memset(pl, 0, sizeof(*pl));
	pl->kind = kind;
	switch (kind) {
	case PK_START:
		off = rng_below(r, 4) * 8;
		break;
	case PK_MISALIGNED:
		off = 1 + rng_below(r, 7);
		break;
	case PK_TIGHT:
		off = need && need <= room ? room - need : 0;
		break;
	case PK_STRADDLE:
		k = need < room ? need : room;
		off = k >= 2 ? room - 1 - rng_below(r, k - 1) : room - 1;
		break;
	case PK_RO:
		off = rng_below(r, 8) * 8;
		pl->addr = (uintptr_t)t->m.ro_view + off;
		pl->rd = KPAGE - off;
		return;
	case PK_NULL:
		return;
	case PK_NONE:
		pl->addr = (uintptr_t)t->m.none + rng_below(r, 2 * KPAGE);
		return;
	case PK_LOW:
		pl->addr = 0x1000 + rng_below(r, 0x8000);
		return;
	case PK_KERNEL:
		pl->addr = kernel[rng_below(r, ARRAY_SIZE(kernel))];
		return;
	default:
		pl->addr = noncanon[rng_below(r, ARRAY_SIZE(noncanon))];
		return;
	}
	pl->p = base + off;
	pl->addr = (uintptr_t)pl->p;
	pl->rd = room - off;
	pl->wr = room - off;
}

/* ---- one fuzzed ioctl ---- */

/**
 * struct call - one fuzzed ioctl as made, for judging and reporting
 * @io: the table entry
 * @cmd: the command passed
 * @fdi: which of the thread's files (0: read-only, 1: read/write)
 * @usize: the size field
 * @arg: where the argument was
 * @nbytes: bytes of the argument placed (min(usize, readable room))
 * @arr: the arrays: placement, element size, capacity, declared bytes
 * @ret: ioctl()'s return value
 * @err: its errno, 0 on success
 * @tame: size, flags, reserved fields and element sizes were valid
 */
struct call {
	const struct fuzz_ioctl *io;
	unsigned long cmd;
	int fdi;
	uint32_t usize;
	struct place arg;
	size_t nbytes;
	struct {
		struct place pl;
		uint32_t esize;
		uint32_t cap;
		uint64_t decl;
		uint8_t *arena;
	} arr[NR_ARENAS];
	int ret;
	int err;
	bool tame;
};

static void describe(const struct call *c, char *buf, size_t size)
{
	unsigned int i;
	int n;

	n = snprintf(buf, size,
		     "%s%s cmd %#lx fd %s size %u arg %s %#llx (rd %zu wr %zu) -> %d %s",
		     c->io->name, c->tame ? " (tame)" : "", c->cmd,
		     c->fdi ? "rw" : "ro", c->usize,
		     pk_names[c->arg.kind], (unsigned long long)c->arg.addr,
		     c->arg.rd, c->arg.wr, c->ret,
		     c->err ? strerror(c->err) : "ok");
	for (i = 0; i < c->io->nr_arrays && n > 0 && (size_t)n < size; i++)
		n += snprintf(buf + n, size - n,
			      "; %s[%u] esize %u at %s %#llx (wr %zu)",
			      elem_types[c->io->arrays[i].kind].name,
			      c->arr[i].cap, c->arr[i].esize,
			      pk_names[c->arr[i].pl.kind],
			      (unsigned long long)c->arr[i].pl.addr,
			      c->arr[i].pl.wr);
}

static void __attribute__((format(printf, 3, 4)))
call_fail(struct fuzz_thread *t, const struct call *c, const char *fmt, ...)
{
	char what[256], desc[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	describe(c, desc, sizeof(desc));
	thread_fail(t, "%s [%s]", what, desc);
}

/* A field of the argument as the kernel sees it: 0 past the size. */
static uint32_t fld32(const struct call *c, const uint8_t *buf, size_t off)
{
	uint32_t v;

	if (off + 4 > c->usize)
		return 0;
	memcpy(&v, buf + off, 4);
	return v;
}

static uint64_t fld64(const struct call *c, const uint8_t *buf, size_t off)
{
	uint64_t v;

	if (off + 8 > c->usize)
		return 0;
	memcpy(&v, buf + off, 8);
	return v;
}

static uint32_t pick_size(struct rng *r, uint32_t ver0, uint32_t known,
			  const uint32_t *vers)
{
	uint32_t n = 0, v;

	switch (rng_below(r, 16)) {
	case 0:
		return rng_below(r, 4) ? 0 : rng_below(r, 8);
	case 1:
		return ver0 - 1;
	case 2: case 3: case 4: case 5:
		while (n < 4 && vers[n])
			n++;
		v = vers[rng_below(r, n)];
		return v + (int)rng_below(r, 3) - 1;
	case 6:
		return known + 8 * (1 + rng_below(r, 8));
	case 7:
		return known + 1 + rng_below(r, 7);
	case 8:
		return KPAGE - rng_below(r, 2);
	case 9:
		return KPAGE + 1 + rng_below(r, 2) * (KPAGE - 1);
	case 10:
		return rng_chance(r, 1, 2) ? 0xffffffffU : 0x80000000U;
	case 11:
		return rng_below(r, KPAGE + 64);
	default:
		return known;
	}
}

static uint32_t pick_esize(struct rng *r, const struct elem_type *e)
{
	uint32_t n = 0;

	switch (rng_below(r, 14)) {
	case 0:
		return rng_below(r, 4) ? 0 : 1 + rng_below(r, 15);
	case 1:
		return e->ver0 - 1;
	case 2: case 3: case 4: case 5:
		while (n < 5 && e->vers[n])
			n++;
		return e->vers[rng_below(r, n)] + (int)rng_below(r, 3) - 1;
	case 6:
		return e->known + 8 * rng_below(r, 16);
	case 7:
		return KPAGE - 1 + rng_below(r, 3);
	case 8:
		return rng_chance(r, 1, 2) ? 0xffffffffU : 0x80000001U;
	case 9:
		return rng_below(r, KPAGE + 64);
	default:
		return e->known;
	}
}

/* A valid element size: a version, cut short or not, or zero-filled. */
static uint32_t pick_esize_tame(struct rng *r, const struct elem_type *e)
{
	uint32_t n = 0;

	switch (rng_below(r, 4)) {
	case 0:
		while (n < 5 && e->vers[n])
			n++;
		return e->vers[rng_below(r, n)];
	case 1:
		return e->known + 8 * (1 + rng_below(r, 8));
	default:
		return e->known;
	}
}

static uint32_t pick_cap(struct rng *r, uint32_t esize)
{
	uint32_t fit = esize ? ARR_RW / esize : ARR_RW;

	switch (rng_below(r, 12)) {
	case 0: case 1:
		return 0;
	case 2:
		return 1;
	case 3:
		return 2 + rng_below(r, 3);
	case 4:
		return fit;
	case 5:
		return fit + 1;
	case 6:
		return rng_chance(r, 1, 2) ? 0xffffffffU : 0x80000000U;
	case 7:
		return rng_below(r, 1U << 20);
	default:
		return fit ? 1 + rng_below(r, fit) : 1;
	}
}

static uint64_t pick_vm_id(struct fuzz_thread *t)
{
	struct rng *r = &t->rng;
	uint64_t id;

	switch (rng_below(r, 8)) {
	case 0:
		return 0;
	case 1:
		return rng_next(r);
	case 2:
		return 1 + rng_below(r, 4096);
	case 3:
		return 1ULL << 32 | rng_below(r, 8);
	default:
		id = __atomic_load_n(&t->f->ids[rng_below(r, NR_IDS)],
				     __ATOMIC_RELAXED);
		return id ? id : 1 + rng_below(r, 64);
	}
}

/* A command for a table entry: its own, or with random size bits. */
static unsigned long fuzz_cmd(struct rng *r, const struct fuzz_ioctl *io)
{
	if (rng_chance(r, 4, 5))
		return io->cmd;
	return _IOC(_IOC_DIR(io->cmd), _IOC_TYPE(io->cmd), _IOC_NR(io->cmd),
		    rng_below(r, 1U << _IOC_SIZEBITS));
}

/* Looks like a kernel address (the all-ones word is a legitimate value). */
static bool kernel_pointer(uint64_t v)
{
	return v >= 0xffff800000000000ULL && v < 0xfffffffffff00000ULL;
}

/* First kernel-pointer-looking word of @n bytes at @p, or -1. */
static long scan_pointers(const uint8_t *p, size_t n)
{
	size_t off;
	uint64_t v;

	for (off = 0; off + 8 <= n; off += 8) {
		memcpy(&v, p + off, 8);
		if (kernel_pointer(v))
			return off;
	}
	return -1;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static bool vm_id_sane(uint64_t id)
{
	return id && id < (1ULL << 32);
}

/*
 * Sanity of one struct kvmw_vm_info of @n valid bytes at @p; returns a
 * description of what is wrong, or NULL.
 */
static const char *check_vm_info(const uint8_t *p, size_t n)
{
	if (n < KVMW_VM_INFO_SIZE_VER0)
		return NULL;
	if (!vm_id_sane(rd64(p, offsetof(struct kvmw_vm_info, vm_id))))
		return "vm_id not in [1, 2^32)";
	if (rd32(p, offsetof(struct kvmw_vm_info, vmm_pid)) - 1 >= PID_MAX)
		return "vmm_pid not in [1, PID_MAX_LIMIT]";
	if (rd32(p, offsetof(struct kvmw_vm_info, flags)) &
	    ~(KVMW_VM_F_GONE | KVMW_VM_F_NO_LIFETIME))
		return "unknown VM flags";
	if (rd32(p, offsetof(struct kvmw_vm_info, vendor)) > KVMW_VENDOR_SVM)
		return "vendor out of range";
	if (!memchr(p + offsetof(struct kvmw_vm_info, comm), 0, 16))
		return "comm not NUL-terminated";
	return NULL;
}

/*
 * Counts of an answer, by element kind, for cross references, and the
 * VM asked for by a STATS_READ of one VM (0: none, or every VM).
 */
struct answer {
	uint32_t count[NR_ELEM];
	bool has[NR_ELEM];
	uint64_t vm_id;
};

/* A descriptor of the module, element @j of its table. */
static const char *check_stat_desc(const uint8_t *p, size_t n, uint32_t j)
{
	const struct kvmw_stat_desc *d = (const void *)p;
	uint32_t values;

	if (j >= layout.hdr.nr_descs)
		return "more descriptors than at start-up";
	if (memcmp(p, &layout.descs[j], n))
		return "descriptor differs from the one read at start-up";
	/* And the start-up table is sane. */
	if (!d->name[0] || !memchr(d->name, 0, sizeof(d->name)))
		return "name empty or not NUL-terminated";
	if (d->kind < KVMW_STAT_COUNTER || d->kind > KVMW_STAT_HIST ||
	    d->unit > KVMW_UNIT_STATE ||
	    (d->flags & ~(KVMW_STAT_F_PER_NODE | KVMW_STAT_F_PER_BUCKET)) ||
	    d->reserved[0] ||
	    d->reserved[1])
		return "kind, unit, flags or reserved out of range";
	switch (d->scope) {
	case KVMW_SCOPE_VM:
		values = layout.hdr.vm_values;
		break;
	case KVMW_SCOPE_VCPU:
		values = layout.hdr.vcpu_values;
		break;
	case KVMW_SCOPE_REASON:
		values = layout.hdr.reason_values;
		break;
	default:
		return "scope out of range";
	}
	if (!d->count || (uint64_t)d->offset + d->count > values)
		return "values beyond the record of its scope";
	if ((d->flags & KVMW_STAT_F_PER_NODE) && d->count != layout.hdr.nr_nodes)
		return "per-node statistic without nr_nodes values";
	if ((d->kind == KVMW_STAT_HIST) != !!d->hist_type)
		return "hist_type on a non-histogram or missing";
	return NULL;
}

static const char *check_vm_rec(const uint8_t *p, size_t n,
				const struct answer *a)
{
	const struct kvmw_vm_rec *r = (const void *)p;

	if (n < KVMW_VM_REC_HDR_SIZE)
		return NULL;
	if (!vm_id_sane(r->vm_id))
		return "vm_id not in [1, 2^32)";
	if (a->vm_id && r->vm_id != a->vm_id)
		return "not the VM asked for";
	if (r->vmm_pid - 1 >= PID_MAX)
		return "vmm_pid not in [1, PID_MAX_LIMIT]";
	if (r->flags & ~(KVMW_VM_F_GONE | KVMW_VM_F_NO_LIFETIME))
		return "unknown VM flags";
	if (r->vendor > KVMW_VENDOR_SVM)
		return "vendor out of range";
	if (r->reserved)
		return "reserved not 0";
	if (!memchr(r->comm, 0, sizeof(r->comm)))
		return "comm not NUL-terminated";
	if (a->has[ELEM_VCPU_REC] &&
	    (uint64_t)r->first_vcpu + r->nr_vcpus > a->count[ELEM_VCPU_REC])
		return "first_vcpu + nr_vcpus beyond the vCPU count";
	return NULL;
}

static const char *check_vcpu_rec(const uint8_t *p, size_t n,
				  const struct answer *a)
{
	const struct kvmw_vcpu_rec *r = (const void *)p;

	if (n < KVMW_VCPU_REC_HDR_SIZE)
		return NULL;
	if (a->has[ELEM_VM_REC] && r->vm_index >= a->count[ELEM_VM_REC])
		return "vm_index beyond the VM count";
	if (r->tid > PID_MAX)
		return "tid above PID_MAX_LIMIT";
	if (a->has[ELEM_REASON_REC] &&
	    (uint64_t)r->first_reason + r->nr_reasons >
	    a->count[ELEM_REASON_REC])
		return "first_reason + nr_reasons beyond the reason count";
	if (r->reserved)
		return "reserved not 0";
	return NULL;
}

static const char *check_reason_rec(const uint8_t *p, size_t n,
				    const struct answer *a)
{
	const struct kvmw_reason_rec *r = (const void *)p;
	uint64_t exits = KVMW_REASON_REC_HDR_SIZE +
			 8ULL * layout.reason_exits;

	if (n < KVMW_REASON_REC_HDR_SIZE)
		return NULL;
	if (a->has[ELEM_VCPU_REC] && r->vcpu_index >= a->count[ELEM_VCPU_REC])
		return "vcpu_index beyond the vCPU count";
	if (r->category >= KVMW_NR_CATEGORIES)
		return "category out of range";
	if (r->flags & ~(KVMW_REASON_F_IDLE | KVMW_REASON_F_UNTIMED))
		return "unknown reason flags";
	/* A reason record exists because the vCPU exited with it. */
	if (layout.reason_exits != ~0U && n >= exits + 8 && !rd64(p, exits))
		return "exits 0";
	return NULL;
}

/* Element @j of an answer, of which @n bytes are the kernel's. */
static const char *check_elem(enum elem_kind kind, const uint8_t *p,
			      size_t n, const struct answer *a, uint32_t j)
{
	uint32_t v;

	switch (kind) {
	case ELEM_VM_INFO:
		return check_vm_info(p, n);
	case ELEM_VM_ENTRY:
		if (check_vm_info(p, n))
			return check_vm_info(p, n);
		v = rd32(p, offsetof(struct kvmw_vm_entry, first_vcpu));
		if (a->has[ELEM_VCPU] &&
		    (uint64_t)v + rd32(p, offsetof(struct kvmw_vm_info,
						   nr_vcpus)) >
		    a->count[ELEM_VCPU])
			return "first_vcpu + nr_vcpus beyond the vCPU count";
		if (rd32(p, offsetof(struct kvmw_vm_entry, reserved)))
			return "reserved not 0";
		return NULL;
	case ELEM_VCPU:
		if (rd32(p, offsetof(struct kvmw_vcpu_info, tid)) > PID_MAX)
			return "tid above PID_MAX_LIMIT";
		v = rd32(p, offsetof(struct kvmw_vcpu_info, first_reason));
		if (a->has[ELEM_REASON] &&
		    (uint64_t)v + rd32(p, offsetof(struct kvmw_vcpu_info,
						   nr_reasons)) >
		    a->count[ELEM_REASON])
			return "first_reason + nr_reasons beyond the reason count";
		if (n >= offsetof(struct kvmw_vcpu_info, rq_delay_ns) &&
		    !vm_id_sane(rd64(p, offsetof(struct kvmw_vcpu_info,
						 vm_id))))
			return "vm_id not in [1, 2^32)";
		return NULL;
	case ELEM_REASON:
		if (a->has[ELEM_VCPU] &&
		    rd32(p, offsetof(struct kvmw_reason_stat, vcpu_index)) >=
		    a->count[ELEM_VCPU])
			return "vcpu_index beyond the vCPU count";
		if (!rd64(p, offsetof(struct kvmw_reason_stat, count)))
			return "count 0";
		if (n >= offsetof(struct kvmw_reason_stat, lat_total_ns) &&
		    rd32(p, offsetof(struct kvmw_reason_stat, reserved)))
			return "reserved not 0";
		return NULL;
	case ELEM_STAT_DESC:
		return check_stat_desc(p, n, j);
	case ELEM_VM_REC:
		return check_vm_rec(p, n, a);
	case ELEM_VCPU_REC:
		return check_vcpu_rec(p, n, a);
	case ELEM_REASON_REC:
		return check_reason_rec(p, n, a);
	default:
		return NULL;
	}
}

/* The counts of a STATS_DESC answer: those read at start-up. */
static bool same_layout(const struct kvmw_stats_desc *d)
{
	return d->nr_descs == layout.hdr.nr_descs &&
	       d->nr_nodes == layout.hdr.nr_nodes &&
	       d->vm_values == layout.hdr.vm_values &&
	       d->vcpu_values == layout.hdr.vcpu_values &&
	       d->reason_values == layout.hdr.reason_values;
}

static uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * The answer of a successful HANDSHAKE, VM_SNAPSHOT, STATS_DESC or
 * STATS_READ, or of the latter two failing with E2BIG for a capacity.
 */
static const char *check_answer(const struct call *c, const uint8_t *ans,
				const uint8_t *in)
{
	if (c->io->cmd == KVMW_IOC_STATS_DESC) {
		struct kvmw_stats_desc d;

		memcpy(&d, ans, sizeof(d));
		if (!same_layout(&d))
			return "counts differ from those read at start-up";
	} else if (c->io->cmd == KVMW_IOC_STATS_READ) {
		struct kvmw_stats_read r;

		memcpy(&r, ans, sizeof(r));
		if (!r.time_ns || r.time_ns > boottime_ns())
			return "time_ns 0 or in the future";
		if (!c->err && fld64(c, in, c->io->id_off) && r.nr_vms != 1)
			return "one VM asked for, nr_vms not 1";
	} else if (c->err) {
		return NULL;
	} else if (c->io->cmd == KVMW_IOC_HANDSHAKE) {
		if (rd32(ans, offsetof(struct kvmw_handshake, api_version)) !=
		    KVMW_API_VERSION)
			return "api_version";
		if (rd32(ans, offsetof(struct kvmw_handshake, vendor)) >
		    KVMW_VENDOR_SVM)
			return "vendor out of range";
		if (!(rd64(ans, offsetof(struct kvmw_handshake, features)) &
		      KVMW_FEAT_EXIT_COUNTS))
			return "KVMW_FEAT_EXIT_COUNTS not set";
		if (rd32(ans, offsetof(struct kvmw_handshake, reserved)))
			return "reserved not 0";
	} else if (c->io->cmd == KVMW_IOC_VM_SNAPSHOT) {
		size_t vm = offsetof(struct kvmw_vm_snapshot, vm);

		if (rd64(ans, vm) != fld64(c, in, c->io->id_off))
			return "vm.vm_id is not the vm_id asked for";
		if (rd32(ans, vm + offsetof(struct kvmw_vm_info, nr_vcpus)) !=
		    rd32(ans, offsetof(struct kvmw_vm_snapshot, nr_vcpus)))
			return "vm.nr_vcpus differs from nr_vcpus";
		return check_vm_info(ans + vm, KVMW_VM_INFO_SIZE_VER0);
	}
	return NULL;
}

/* Build the argument in t->buf; fills @c. */
static void build_call(struct fuzz_thread *t, struct call *c,
		       const struct fuzz_ioctl *io)
{
	struct rng *r = &t->rng;
	uint8_t *b = t->buf;
	uint32_t flags = 0;
	unsigned int i;
	size_t n;

	memset(c, 0, sizeof(*c));
	c->io = io;
	c->cmd = fuzz_cmd(r, io);
	c->fdi = rng_below(r, 2);
	/*
	 * A third of the calls are tame: only placements, capacities and
	 * vm_id are hostile, so that ioctls with several arrays reach their
	 * answer paths often enough.
	 */
	c->tame = rng_chance(r, 1, 3);
	c->usize = c->tame ? io->known :
		   pick_size(r, io->ver0, io->known, io->vers);

	/* Output fields hold garbage now and then: they must be ignored. */
	if (rng_chance(r, 1, 4)) {
		for (n = 0; n < io->known; n++)
			b[n] = rng_next(r);
	} else {
		memset(b, 0, io->known);
	}
	memset(b + io->known, 0, sizeof(t->buf) - io->known);
	memcpy(b, &c->usize, 4);
	if (!c->tame && rng_chance(r, 1, 16))
		flags = 1U << rng_below(r, 32);
	memcpy(b + 4, &flags, 4);
	for (i = 0; i < ARRAY_SIZE(io->reserved) && io->reserved[i]; i++) {
		uint32_t v = !c->tame && rng_chance(r, 1, 16) ?
			     1U << rng_below(r, 32) : 0;

		memcpy(b + io->reserved[i], &v, 4);
	}
	if (io->id_off) {
		/* Every VM (0) half the time when tame, if that means it. */
		uint64_t id = c->tame && (io->flags & FI_ID_ALL) &&
			      rng_chance(r, 1, 2) ? 0 : pick_vm_id(t);

		memcpy(b + io->id_off, &id, 8);
	}
	/* A non-zero byte somewhere in the tail past the known struct. */
	if (c->usize > io->known && c->usize <= KPAGE && rng_chance(r, 1, 3))
		b[io->known + rng_below(r, c->usize - io->known)] =
			1 + rng_below(r, 255);

	for (i = 0; i < io->nr_arrays; i++) {
		const struct fuzz_array *a = &io->arrays[i];
		const struct elem_type *e = &elem_types[a->kind];
		uint32_t esize = c->tame ? pick_esize_tame(r, e) :
					   pick_esize(r, e);
		uint32_t cap = pick_cap(r, esize);
		uint64_t decl = (uint64_t)esize * cap;

		c->arr[i].esize = esize;
		c->arr[i].cap = cap;
		c->arr[i].decl = decl;
		c->arr[i].arena = t->m.arr[i];
		place(t, &c->arr[i].pl, pick_kind(r), t->m.arr[i], ARR_RW,
		      decl);
		memcpy(b + a->size_off, &esize, 4);
		memcpy(b + a->cap_off, &cap, 4);
		memcpy(b + a->ptr_off, &c->arr[i].pl.addr, 8);
	}
}

/* The window of an array buffer that is prepared and checked. */
static void arr_window(const struct call *c, unsigned int i, uint8_t **lo,
		       uint8_t **hi)
{
	uint8_t *arena = c->arr[i].arena, *p = c->arr[i].pl.p;
	uint64_t end;

	*lo = *hi = NULL;
	if (!p)
		return;
	end = (uint64_t)(p - arena) + c->arr[i].decl + MARGIN;
	*lo = p - arena > MARGIN ? p - MARGIN : arena;
	*hi = arena + (end < ARR_RW ? end : ARR_RW);
}

/* Whether the kernel could write every declared byte of array @i. */
static bool arr_fits(const struct call *c, unsigned int i)
{
	return c->arr[i].decl <= c->arr[i].pl.wr;
}

/* Whether a field of @n bytes at @off is unchanged (or past @lim). */
static bool same(const uint8_t *a, const uint8_t *b, size_t off, size_t n,
		 size_t lim)
{
	return off + n > lim || !memcmp(a + off, b + off, n);
}

/*
 * Judge a fuzzed call and check what it wrote. @in is the argument as
 * passed (t->buf), the answer is read from c->arg.p.
 */
static void judge(struct fuzz_thread *t, struct call *c, const uint8_t *in)
{
	const struct fuzz_ioctl *io = c->io;
	uint32_t flags, usize = c->usize;
	bool must_fail = false, lenient_esize = false, all_caps_zero = true;
	bool unwritable = false, tail_nonzero = false, e2big_cap = false;
	uint64_t allowed = 0;
	const uint8_t *ans = c->arg.p;
	struct answer a = {};
	unsigned int i, j;
	size_t n;
	long off;

#define BIT(e)	(1ULL << err_class(e))
	if (c->arg.rd < 4) {
		allowed = BIT(EFAULT);
		goto verdict;
	}
	if (usize < io->ver0 || usize > KPAGE) {
		allowed = BIT(EINVAL);
		goto verdict;
	}
	if (c->arg.rd < usize) {
		must_fail = true;
		allowed |= BIT(EFAULT);
	}
	for (n = io->known; n < usize; n++)
		tail_nonzero |= in[n] != 0;
	if (tail_nonzero) {
		must_fail = true;
		allowed |= BIT(E2BIG);
	}
	flags = fld32(c, in, 4);
	for (i = 0; i < ARRAY_SIZE(io->reserved) && io->reserved[i]; i++)
		flags |= fld32(c, in, io->reserved[i]);
	if (flags) {
		must_fail = true;
		allowed |= BIT(EINVAL);
	}
	for (i = 0; i < io->nr_arrays; i++)
		if (fld32(c, in, io->arrays[i].cap_off))
			all_caps_zero = false;
	for (i = 0; i < io->nr_arrays; i++) {
		const struct elem_type *e = &elem_types[io->arrays[i].kind];
		uint32_t es = fld32(c, in, io->arrays[i].size_off);

		if (es >= e->ver0 && es <= KPAGE)
			continue;
		/* A pure query (all capacities 0) may ignore element sizes. */
		if (all_caps_zero) {
			lenient_esize = true;
		} else {
			must_fail = true;
			allowed |= BIT(EINVAL);
		}
	}
	if (must_fail)
		goto verdict;

	allowed = BIT(0) | BIT(ENOMEM) | BIT(E2BIG);
	if (lenient_esize)
		allowed |= BIT(EINVAL);
	if ((io->flags & FI_VM_ID) &&
	    (!(io->flags & FI_ID_ALL) || fld64(c, in, io->id_off)))
		allowed |= BIT(ENOENT);
	if ((io->flags & FI_WRITE) && !c->fdi)
		allowed |= BIT(EPERM) | BIT(EACCES);
	unwritable = c->arg.wr < (usize < io->known ? usize : io->known);
	for (i = 0; i < io->nr_arrays; i++)
		if (fld32(c, in, io->arrays[i].cap_off) && !arr_fits(c, i))
			unwritable = true;
	if (unwritable)
		allowed |= BIT(EFAULT);

verdict:
	if (!(allowed & BIT(c->err))) {
		call_fail(t, c, "errno not allowed by the inputs");
		return;
	}
#undef BIT
	/* What the kernel wrote back over the argument. */
	if (ans) {
		size_t room = c->arg.wr, lo = ans - t->m.arg;
		size_t lim = usize < c->nbytes ? usize : c->nbytes, end;

		off = not_canary(ans - (lo < 64 ? lo : 64), lo < 64 ? lo : 64);
		if (off >= 0)
			call_fail(t, c, "byte written before the argument");
		/* Below 8 bytes, the placed size and flags stay as they are. */
		end = usize > c->nbytes ? usize : c->nbytes;
		if (usize < c->nbytes &&
		    memcmp(ans + usize, in + usize, c->nbytes - usize))
			call_fail(t, c, "byte past the size written");
		if (end < room) {
			n = room - end < 64 ? room - end : 64;
			off = not_canary(ans + end, n);
			if (off >= 0)
				call_fail(t, c, "byte %zu past the size written",
					  end + off);
		}
		/* Input fields come back as they went in. */
		if (lim >= 8 && memcmp(ans, in, 8))
			call_fail(t, c, "size or flags changed");
		for (i = 0; i < io->nr_arrays; i++) {
			const struct fuzz_array *fa = &io->arrays[i];

			if (!same(ans, in, fa->ptr_off, 8, lim) ||
			    !same(ans, in, fa->size_off, 4, lim) ||
			    !same(ans, in, fa->cap_off, 4, lim))
				call_fail(t, c, "array %u input fields changed",
					  i);
		}
		if (io->id_off && !same(ans, in, io->id_off, 8, lim))
			call_fail(t, c, "vm_id changed");
		/* Failures before any answer leave the argument alone. */
		if ((c->err == EINVAL || (c->err == E2BIG && tail_nonzero)) &&
		    memcmp(ans, in, lim))
			call_fail(t, c, "argument changed by a failed call");
		if (!c->err || c->err == E2BIG) {
			for (off = 0; off + 8 <= (long)lim; off += 8)
				if (memcmp(ans + off, in + off, 8) &&
				    kernel_pointer(rd64(ans, off)))
					call_fail(t, c,
						  "kernel pointer at offset %ld",
						  off);
		}
	}
	if (!c->err && !ans)
		call_fail(t, c, "success with an unwritable argument");

	for (i = 0; i < io->nr_arrays; i++) {
		enum elem_kind k = io->arrays[i].kind;

		if (!ans || !(!c->err || c->err == E2BIG))
			break;
		a.has[k] = true;
		a.count[k] = rd32(ans, io->arrays[i].count_off);
		if (io->flags & FI_ID_ALL)
			a.vm_id = fld64(c, in, io->id_off);
		if (a.count[k] > c->arr[i].cap)
			e2big_cap = true;
	}
	if (c->err == E2BIG && !tail_nonzero && !e2big_cap)
		call_fail(t, c, "E2BIG with no count above its capacity");
	if ((!c->err || (c->err == E2BIG && !tail_nonzero)) && ans &&
	    check_answer(c, ans, in))
		call_fail(t, c, "answer: %s", check_answer(c, ans, in));

	/* The arrays: only declared bytes written, only on success. */
	for (i = 0; i < io->nr_arrays; i++) {
		enum elem_kind k = io->arrays[i].kind;
		const struct elem_type *e = &elem_types[k];
		uint32_t es = c->arr[i].esize, cnt = a.count[k];
		uint8_t *lo, *hi, *p = c->arr[i].pl.p;
		uint64_t written = 0;
		bool query = all_caps_zero;

		if (!c->err && !query) {
			if (cnt > c->arr[i].cap) {
				call_fail(t, c, "%s count %u above capacity",
					  e->name, cnt);
				continue;
			}
			written = (uint64_t)cnt * es;
			if (written > c->arr[i].pl.wr) {
				call_fail(t, c, "%s: success though %llu bytes were not writable",
					  e->name, (unsigned long long)written);
				continue;
			}
		}
		arr_window(c, i, &lo, &hi);
		if (!lo)
			continue;
		off = not_canary(lo, p - lo);
		if (off >= 0)
			call_fail(t, c, "%s: byte written before the array",
				  e->name);
		if (c->err == EFAULT)
			written = c->arr[i].decl;
		if (written < (uint64_t)(hi - p)) {
			off = not_canary(p + written, hi - (p + written));
			if (off >= 0)
				call_fail(t, c, "%s: byte %llu written past %llu",
					  e->name,
					  (unsigned long long)(written + off),
					  (unsigned long long)written);
		}
		if (c->err)
			continue;
		for (j = 0; j < cnt && written; j++) {
			const uint8_t *el = p + (size_t)j * es;
			size_t kn = es < e->known ? es : e->known;
			size_t scan = e->scan && e->scan < kn ? e->scan : kn;
			const char *why;

			off = scan_pointers(el, scan);
			if (off >= 0) {
				call_fail(t, c, "%s %u: kernel pointer at %ld",
					  e->name, j, off);
				break;
			}
			why = check_elem(k, el, kn, &a, j);
			if (why) {
				call_fail(t, c, "%s %u: %s", e->name, j, why);
				break;
			}
			for (n = kn; n < es; n++)
				if (el[n])
					break;
			if (n < es) {
				call_fail(t, c, "%s %u: byte %zu past the kernel's size not 0",
					  e->name, j, n);
				break;
			}
		}
	}
}

/* Reset what a call could have touched to canary bytes. */
static void restore(struct fuzz_thread *t, const struct call *c)
{
	unsigned int i;
	uint8_t *lo, *hi;

	if (c->arg.p) {
		size_t back = c->arg.p - t->m.arg < 64 ? c->arg.p - t->m.arg : 64;
		size_t len = c->nbytes + 64 < c->arg.wr ? c->nbytes + 64 :
							    c->arg.wr;

		memset(c->arg.p - back, CANARY, back + len);
	}
	for (i = 0; i < c->io->nr_arrays; i++) {
		arr_window(c, i, &lo, &hi);
		if (lo)
			memset(lo, CANARY, hi - lo);
	}
}

static int fuzz_fd(struct fuzz_thread *t, int fdi)
{
	return t->fd[fdi];
}

static void op_ioctl(struct fuzz_thread *t, unsigned int idx)
{
	const struct fuzz_ioctl *io = &fuzz_ioctls[idx];
	struct call c;
	long ret;

	build_call(t, &c, io);
	place(t, &c.arg, pick_kind(&t->rng), t->m.arg, ARG_RW, c.usize);
	/* The size and flags fields are always there, even for size < 8. */
	c.nbytes = c.usize > 8 ? c.usize : 8;
	if (c.nbytes > c.arg.rd)
		c.nbytes = c.arg.rd;
	if (c.nbytes > sizeof(t->buf))
		c.nbytes = sizeof(t->buf);
	if (c.arg.p)
		memcpy(c.arg.p, t->buf, c.nbytes);
	else if (c.arg.kind == PK_RO)
		memcpy(t->m.rw_view + (c.arg.addr - (uintptr_t)t->m.ro_view),
		       t->buf, c.nbytes);
	ret = ioctl(fuzz_fd(t, c.fdi), c.cmd, (void *)(uintptr_t)c.arg.addr);
	c.ret = ret;
	c.err = ret ? errno : 0;
	if (ret && ret != -1)
		call_fail(t, &c, "ioctl returned %ld", ret);
	count_call(t, idx, c.err);
	judge(t, &c, t->buf);
	restore(t, &c);
}

/* Unknown commands, wrong direction bits: ENOTTY, and nothing touched. */
static void op_badcmd(struct fuzz_thread *t)
{
	/* Types that the VFS does not handle itself (FIONBIO, FS_IOC_*...). */
	static const uint8_t types[] = { 0xae, 0xb8, 0xba, 0x01, 0xff };
	struct rng *r = &t->rng;
	unsigned long cmd;
	struct place pl;
	unsigned int dir, nr, i;
	struct call c;
	long ret;

	switch (rng_below(r, 3)) {
	case 0:	/* a known number with other direction bits */
		i = rng_below(r, NR_IOCTLS);
		dir = rng_below(r, 3);	/* _IOC_NONE, _IOC_WRITE, _IOC_READ */
		cmd = _IOC(dir, KVMW_IOC_MAGIC, _IOC_NR(fuzz_ioctls[i].cmd),
			   rng_below(r, 1U << _IOC_SIZEBITS));
		break;
	case 1:	/* our magic, a number no ioctl of the header has */
		do {
			nr = rng_below(r, 256);
			for (i = 0; i < NR_IOCTLS; i++)
				if (_IOC_NR(fuzz_ioctls[i].cmd) == nr)
					break;
			/*
			 * The budget ioctls are known (op_budget()), and so
			 * are the default budgets' and NUMA placement's (not
			 * fuzzed yet: their selftests, budget_default and
			 * numa_place, check their arguments).
			 */
			if (nr == _IOC_NR(KVMW_IOC_BUDGET_SET) ||
			    nr == _IOC_NR(KVMW_IOC_BUDGET_GET) ||
			    nr == _IOC_NR(KVMW_IOC_BUDGET_DEFAULT_SET) ||
			    nr == _IOC_NR(KVMW_IOC_BUDGET_DEFAULT_GET) ||
			    nr == _IOC_NR(KVMW_IOC_NUMA_SET) ||
			    nr == _IOC_NR(KVMW_IOC_NUMA_GET))
				i = 0;
		} while (i < NR_IOCTLS);
		cmd = _IOC(rng_below(r, 4), KVMW_IOC_MAGIC, nr,
			   rng_below(r, 1U << _IOC_SIZEBITS));
		break;
	default:
		cmd = _IOC(rng_below(r, 4), types[rng_below(r, sizeof(types))],
			   rng_below(r, 256), rng_below(r, 1U << _IOC_SIZEBITS));
		break;
	}
	place(t, &pl, pick_kind(r), t->m.arg, ARG_RW, 64);
	if (pl.p)
		memset(pl.p, 0, pl.wr < 64 ? pl.wr : 64);
	ret = ioctl(fuzz_fd(t, rng_below(r, 2)), cmd, (void *)(uintptr_t)pl.addr);
	memset(&c, 0, sizeof(c));
	c.io = &fuzz_ioctls[0];
	c.cmd = cmd;
	c.arg = pl;
	c.ret = ret;
	c.err = ret ? errno : 0;
	count_call(t, ROW_BADCMD, c.err);
	if (c.err != ENOTTY)
		call_fail(t, &c, "unknown command: not ENOTTY");
	if (pl.p) {
		for (i = 0; i < 64 && i < pl.wr; i++)
			if (pl.p[i])
				break;
		if (i < 64 && i < pl.wr)
			call_fail(t, &c, "unknown command wrote its argument");
		memset(pl.p, CANARY, pl.wr < 64 ? pl.wr : 64);
	}
}

/* ---- the budget ioctls, against a model of their contract ---- */

#define B_MAX_RATE	KVMW_BUDGET_MAX_RATE
#define B_MAX_BURST	KVMW_BUDGET_MAX_BURST
#define B_ALL_CATS	((1ULL << KVMW_NR_CATEGORIES) - 1)

/* The categories a bucket covers: 0 is the default scope. */
static uint64_t b_scope(uint64_t cats)
{
	return cats ? cats : KVMW_BUDGET_DEFAULT_SCOPE;
}

/*
 * Whether SET accepts @q, by Documentation/budgets.rst and uapi.rst:
 * known flags and mode, reserved and tripped zero; OFF with no bucket and
 * no flag; otherwise 1 to KVMW_BUDGET_MAX_BUCKETS buckets, max_park_ns 0
 * or 1 us to KVMW_BUDGET_MAX_PARK_NS, guard window 0 or within its
 * limits, guard_pct at most 100; each used bucket's categories known,
 * rate 1 to the maximum and refilling a token within the longest park,
 * burst 1 to the maximum, credit at most the maximum, no category in two
 * buckets; unused buckets all zero.
 */
static bool b_model_valid(const struct kvmw_budget *q)
{
	uint64_t park = q->max_park_ns ? q->max_park_ns :
			KVMW_BUDGET_DEF_PARK_NS, seen = 0;
	unsigned int i;

	if ((q->flags & ~KVMW_BUDGET_F_ALL) || q->reserved || q->tripped ||
	    q->rule)
		return false;
	if (q->mode == KVMW_BUDGET_OFF)
		return !q->nr_buckets && !q->flags;
	if (q->mode != KVMW_BUDGET_AUDIT && q->mode != KVMW_BUDGET_THROTTLE)
		return false;
	if (!q->nr_buckets || q->nr_buckets > KVMW_BUDGET_MAX_BUCKETS)
		return false;
	if (q->max_park_ns > KVMW_BUDGET_MAX_PARK_NS ||
	    (q->max_park_ns && q->max_park_ns < 1000))
		return false;
	if (q->guard_window_ns &&
	    (q->guard_window_ns < KVMW_BUDGET_MIN_WINDOW_NS ||
	     q->guard_window_ns > KVMW_BUDGET_MAX_WINDOW_NS))
		return false;
	if (q->guard_pct > 100)
		return false;
	for (i = 0; i < KVMW_BUDGET_MAX_BUCKETS; i++) {
		const struct kvmw_budget_bucket *k = &q->buckets[i];

		if (i >= q->nr_buckets) {
			if (k->categories || k->rate || k->burst || k->credit)
				return false;
			continue;
		}
		if (k->categories & ~B_ALL_CATS)
			return false;
		if (!k->rate || k->rate > B_MAX_RATE ||
		    k->rate * park < 1000000000ULL)
			return false;
		if (!k->burst || k->burst > B_MAX_BURST ||
		    k->credit > B_MAX_BURST)
			return false;
		if (b_scope(k->categories) & seen)
			return false;
		seen |= b_scope(k->categories);
	}
	return true;
}

/*
 * What GET returns after @q was set over @old: the defaults filled in, and
 * a bucket whose scope was a bucket's before gets at most the credit that
 * one had left (a credit is once per VM, not per set).
 */
static void b_model_after(const struct kvmw_budget *old,
			  const struct kvmw_budget *q, struct kvmw_budget *out)
{
	unsigned int i, j;

	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->vm_id = q->vm_id;
	if (q->mode == KVMW_BUDGET_OFF)
		return;
	out->mode = q->mode;
	out->flags = q->flags;
	out->nr_buckets = q->nr_buckets;
	out->max_park_ns = q->max_park_ns ? q->max_park_ns :
			   KVMW_BUDGET_DEF_PARK_NS;
	out->guard_window_ns = q->guard_window_ns ? q->guard_window_ns :
			       KVMW_BUDGET_DEF_WINDOW_NS;
	out->guard_pct = q->guard_pct ? q->guard_pct :
			 KVMW_BUDGET_DEF_GUARD_PCT;
	for (i = 0; i < q->nr_buckets; i++) {
		out->buckets[i] = q->buckets[i];
		for (j = 0; j < old->nr_buckets; j++)
			if (b_scope(old->buckets[j].categories) ==
			    b_scope(q->buckets[i].categories) &&
			    old->buckets[j].credit < out->buckets[i].credit)
				out->buckets[i].credit = old->buckets[j].credit;
	}
}

/* A value around the limits of a field, or anything. */
static uint64_t b_pick(struct rng *r, const uint64_t *edges, unsigned int n,
		       uint64_t lo, uint64_t hi)
{
	uint32_t x = rng_below(r, 100);

	if (x < 55)
		return lo + rng_next(r) % (hi - lo + 1);
	if (x < 90)
		return edges[rng_below(r, n)];
	return x < 95 ? rng_next(r) : rng_next(r) >> rng_below(r, 64);
}

/* A random budget, valid more often than not. */
static void b_random(struct rng *r, struct kvmw_budget *q)
{
	static const uint64_t rates[] = {
		0, 1, 9, 10, 11, 1000, B_MAX_RATE, B_MAX_RATE + 1, ~0ULL,
	};
	static const uint64_t bursts[] = {
		0, 1, 2, B_MAX_BURST, B_MAX_BURST + 1, ~0ULL,
	};
	static const uint64_t parks[] = {
		0, 0, 999, 1000, 1001, 100000000, KVMW_BUDGET_MAX_PARK_NS,
		KVMW_BUDGET_MAX_PARK_NS + 1, ~0ULL,
	};
	static const uint64_t windows[] = {
		0, 0, KVMW_BUDGET_MIN_WINDOW_NS - 1, KVMW_BUDGET_MIN_WINDOW_NS,
		KVMW_BUDGET_MAX_WINDOW_NS, KVMW_BUDGET_MAX_WINDOW_NS + 1,
		~0ULL,
	};
	static const uint64_t pcts[] = { 0, 0, 1, 90, 100, 101, ~0U };
	static const uint64_t modes[] = {
		KVMW_BUDGET_OFF, KVMW_BUDGET_AUDIT, KVMW_BUDGET_THROTTLE, 3,
		~0U,
	};
	unsigned int i, owner[KVMW_NR_CATEGORIES];

	memset(q, 0, sizeof(*q));
	q->mode = b_pick(r, modes, ARRAY_SIZE(modes), KVMW_BUDGET_OFF,
			 KVMW_BUDGET_THROTTLE);
	if (rng_chance(r, 1, 3))
		q->flags = rng_chance(r, 9, 10) ? KVMW_BUDGET_F_GUARD_AUDIT :
			   1U << rng_below(r, 32);
	if (q->mode == KVMW_BUDGET_OFF && rng_chance(r, 4, 5)) {
		q->flags = 0;
		return;
	}
	q->nr_buckets = rng_chance(r, 19, 20) ?
			1 + rng_below(r, KVMW_BUDGET_MAX_BUCKETS) :
			(rng_chance(r, 1, 2) ? 0 : rng_next(r));
	q->max_park_ns = b_pick(r, parks, ARRAY_SIZE(parks), 1000,
				KVMW_BUDGET_MAX_PARK_NS);
	q->guard_window_ns = b_pick(r, windows, ARRAY_SIZE(windows),
				    KVMW_BUDGET_MIN_WINDOW_NS,
				    KVMW_BUDGET_MAX_WINDOW_NS);
	q->guard_pct = b_pick(r, pcts, ARRAY_SIZE(pcts), 0, 100);
	if (rng_chance(r, 1, 40))
		q->tripped = 1 + rng_below(r, 3);
	if (rng_chance(r, 1, 40))
		q->reserved = rng_next(r) | 1;
	if (rng_chance(r, 1, 40))
		q->rule = 1 + rng_below(r, KVMW_BUDGET_MAX_DEFAULTS + 1);
	/* Scopes: each category in one bucket or none, now and then not. */
	for (i = 0; i < KVMW_NR_CATEGORIES; i++)
		owner[i] = rng_below(r, KVMW_BUDGET_MAX_BUCKETS + 1);
	for (i = 0; i < KVMW_BUDGET_MAX_BUCKETS; i++) {
		struct kvmw_budget_bucket *k = &q->buckets[i];
		unsigned int c;

		if (i >= q->nr_buckets && rng_chance(r, 19, 20))
			continue;
		for (c = 0; c < KVMW_NR_CATEGORIES; c++)
			if (owner[c] == i)
				k->categories |= 1ULL << c;
		if (rng_chance(r, 1, 6))
			k->categories = 0;	/* the default scope */
		else if (rng_chance(r, 1, 20))
			k->categories = rng_next(r) & (rng_chance(r, 1, 2) ?
				B_ALL_CATS : ~0ULL);
		else if (!k->categories)
			k->categories = 1ULL << rng_below(r, KVMW_NR_CATEGORIES);
		k->rate = b_pick(r, rates, ARRAY_SIZE(rates), 10, 2000000);
		k->burst = b_pick(r, bursts, ARRAY_SIZE(bursts), 1, 100000);
		k->credit = rng_chance(r, 1, 2) ? 0 :
			    b_pick(r, bursts, ARRAY_SIZE(bursts), 0, 100000);
	}
}

/* GET takes the VM's id and nothing else. */
static bool b_get_args_ok(const struct kvmw_budget *q)
{
	static const struct kvmw_budget_bucket zero[KVMW_BUDGET_MAX_BUCKETS];

	return !q->flags && !q->mode && !q->nr_buckets && !q->max_park_ns &&
	       !q->guard_window_ns && !q->guard_pct && !q->tripped &&
	       !q->rule && !q->reserved &&
	       !memcmp(q->buckets, zero, sizeof(zero));
}

/* GET of @id on @fd into @out: 0 or an errno. */
static int b_get(int fd, uint64_t id, struct kvmw_budget *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->vm_id = id;
	return ioctl(fd, KVMW_IOC_BUDGET_GET, out) ? errno : 0;
}

/*
 * The thread's own VM of this module generation: a new VM whose one vCPU
 * ran once on this thread (so that the module tracks it), and no budget.
 * Returns 0 when there is one, -1 when not (now; nothing recorded unless
 * something is wrong).
 */
static int b_own_vm(struct fuzz_thread *t)
{
	struct kvmw_budget got;
	struct kvmw_snap s;
	struct kvm_vcpu *v;
	int err;

	if (t->bvm_id && t->bvm_gen == t->gen_seen)
		return 0;
	if (!t->bvm || t->bvm_gen != t->gen_seen) {
		if (t->bvm)
			vm_destroy(t->bvm);
		t->bvm_id = 0;
		t->bvm_gen = t->gen_seen;
		t->bvm = vm_create(NULL);
		if (!t->bvm)
			return -1;
		t->bvms++;
		v = vcpu_add(t->bvm);
		if (!v || vcpu_load_prog(v, GUEST_PROG_CPUID, 1) ||
		    vcpu_run(v)) {
			thread_fail(t, "budget VM: %s",
				    v ? v->res.msg : "no vCPU");
			vm_destroy(t->bvm);
			t->bvm = NULL;
			return -1;
		}
	}
	/* Over the per-VMM cap of tracked VMs, say: try again later. */
	if (kvmw_find_kvm_vm(t->fd[0], t->bvm, &s)) {
		t->bmissed++;
		return -1;
	}
	t->bvm_id = s.hdr.vm.vm_id;
	kvmw_snap_free(&s);
	err = b_get(t->fd[0], t->bvm_id, &got);
	if (err || got.mode != KVMW_BUDGET_OFF || got.nr_buckets) {
		thread_fail(t, "budget of a new VM: %s, mode %u",
			    err ? strerror(err) : "ok", got.mode);
		t->bvm_id = 0;
		return -1;
	}
	t->bcur = got;
	return 0;
}

/* Drop (or take back) CAP_SYS_ADMIN from this thread's effective set. */
static int b_cap_admin(bool on)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	if (on)
		d[CAP_SYS_ADMIN / 32].effective |= 1U << (CAP_SYS_ADMIN % 32);
	else
		d[CAP_SYS_ADMIN / 32].effective &= ~(1U << (CAP_SYS_ADMIN % 32));
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static const char *b_str(const struct kvmw_budget *b, char *buf, size_t size)
{
	int n = snprintf(buf, size,
			 "id %llu mode %u flags %#x nr %u park %llu win %llu pct %u tripped %u rule %u res %u",
			 (unsigned long long)b->vm_id, b->mode, b->flags,
			 b->nr_buckets, (unsigned long long)b->max_park_ns,
			 (unsigned long long)b->guard_window_ns, b->guard_pct,
			 b->tripped, b->rule, b->reserved);
	unsigned int i;

	for (i = 0; i < KVMW_BUDGET_MAX_BUCKETS && n > 0 && (size_t)n < size;
	     i++)
		n += snprintf(buf + n, size - n, " [%#llx %llu %llu %llu]",
			      (unsigned long long)b->buckets[i].categories,
			      (unsigned long long)b->buckets[i].rate,
			      (unsigned long long)b->buckets[i].burst,
			      (unsigned long long)b->buckets[i].credit);
	return buf;
}

/*
 * One budget call. SET and GET on the thread's own VM (mostly), on id 0,
 * an unknown id or a VM of the churn threads (then only GET and SETs the
 * model rejects: a valid budget would slow the churn), with the argument
 * short, long with a zero or non-zero tail, too long, unreadable; through
 * the read-only file or without CAP_SYS_ADMIN. The errno must be the
 * model's (ENOMEM too while allocations fail); the own VM's budget,
 * read before and after, changes only by a successful SET, and then to
 * exactly what the model says.
 */
static void op_budget(struct fuzz_thread *t)
{
	struct rng *r = &t->rng;
	struct kvmw_budget q, want, after;
	uint8_t arg[KPAGE + 64] __attribute__((aligned(8)));
	bool set = rng_chance(r, 3, 4), own = false, churn = false;
	bool valid, unpriv = false, ro, bad_ptr = false, tail_nz = false;
	uint32_t usize = sizeof(q), x;
	int fd, err, want_err, alt_err = -1;
	char s1[384], s2[384];
	void *p = arg;

	if (!t->f->kvm || b_own_vm(t))
		return;
	if (set)
		b_random(r, &q);
	else
		memset(&q, 0, sizeof(q));
	if (!set && rng_chance(r, 1, 10))
		q.buckets[rng_below(r, KVMW_BUDGET_MAX_BUCKETS)].rate = 1;
	else if (!set && rng_chance(r, 1, 10))
		q.mode = KVMW_BUDGET_AUDIT;
	else if (!set && rng_chance(r, 1, 10))
		q.rule = 1;
	valid = b_model_valid(&q);

	x = rng_below(r, 100);
	if (x < 80) {
		q.vm_id = t->bvm_id;
		own = true;
	} else if (x < 85) {
		q.vm_id = 0;
	} else if (x < 90) {
		q.vm_id = rng_chance(r, 1, 2) ? ~0ULL : (1ULL << 32) +
			  rng_below(r, 1000);
	} else {
		q.vm_id = t->f->ids[rng_below(r, NR_IDS)];
		churn = q.vm_id && q.vm_id != t->bvm_id;
		if (!churn)
			q.vm_id = t->bvm_id;
		own = !churn;
		/* Never a budget that would slow the churn down. */
		if (churn && set && valid) {
			q.reserved = 1;
			valid = false;
		}
	}

	x = rng_below(r, 100);
	if (x < 5)
		usize = rng_below(r, KVMW_BUDGET_SIZE_VER0);
	else if (x < 15)
		usize = sizeof(q) + 1 + rng_below(r, KPAGE - sizeof(q));
	else if (x < 17)
		usize = KPAGE + 1 + rng_below(r, 60);
	memset(arg, 0, sizeof(arg));
	memcpy(arg, &q, sizeof(q));
	*(uint32_t *)arg = usize;
	if (usize > sizeof(q) && usize <= sizeof(arg) && rng_chance(r, 1, 2))
		arg[sizeof(q) + rng_below(r, usize - sizeof(q))] =
			1 + rng_below(r, 255);
	if (rng_chance(r, 1, 30)) {
		p = rng_chance(r, 1, 2) ? NULL : t->m.none;
		bad_ptr = true;
	}
	ro = rng_chance(r, 1, 8);
	fd = t->fd[ro ? 0 : 1];
	if (set && rng_chance(r, 1, 12))
		unpriv = !b_cap_admin(false);

	for (x = sizeof(q); x < usize && x < sizeof(arg); x++)
		tail_nz |= arg[x] != 0;

	/* The model's answer, in the order the contract checks. */
	if (set && ro)
		want_err = EBADF;
	else if (set && unpriv)
		want_err = EPERM;
	else if (bad_ptr)
		want_err = EFAULT;
	else if (usize < KVMW_BUDGET_SIZE_VER0 || usize > KPAGE)
		want_err = EINVAL;
	else if (tail_nz)
		want_err = E2BIG;
	else if (!q.vm_id)
		want_err = EINVAL;
	else if (!set && !b_get_args_ok(&q))
		want_err = EINVAL;
	else if (!own && !churn)
		want_err = ENOENT;
	else if (set && !valid)
		want_err = EINVAL;
	else
		want_err = 0;
	/* A churn VM may be gone by now (SET looks it up first). */
	if (churn && (!want_err || (set && want_err == EINVAL)))
		alt_err = ENOENT;
	if (t->f->inject && set && !want_err)
		alt_err = ENOMEM;

	err = ioctl(fd, set ? KVMW_IOC_BUDGET_SET : KVMW_IOC_BUDGET_GET, p) ?
	      errno : 0;
	if (unpriv && b_cap_admin(true))
		thread_fail(t, "could not take CAP_SYS_ADMIN back");
	count_call(t, set ? ROW_BUDGET_SET : ROW_BUDGET_GET, err);
	if (err != want_err && err != alt_err)
		thread_fail(t, "BUDGET_%s: %s, the model says %s (size %u%s%s%s): %s",
			    set ? "SET" : "GET", err ? strerror(err) : "ok",
			    want_err ? strerror(want_err) : "ok", usize,
			    ro ? ", read-only" : "", unpriv ? ", no CAP_SYS_ADMIN" : "",
			    bad_ptr ? ", bad pointer" : "", b_str(&q, s1, sizeof(s1)));

	/* A GET answers the budget, and leaves the tail alone. */
	if (!set && !err && own) {
		const struct kvmw_budget *a = (const void *)arg;

		if (memcmp(arg + 4, (const uint8_t *)&t->bcur + 4,
			   sizeof(q) - 4))
			thread_fail(t, "BUDGET_GET: %s, not %s",
				    b_str(a, s1, sizeof(s1)),
				    b_str(&t->bcur, s2, sizeof(s2)));
	}

	if (set && !err && own) {
		b_model_after(&t->bcur, &q, &want);
		t->bcur = want;
		t->bsets++;
	}
	err = b_get(t->fd[0], t->bvm_id, &after);
	if (err) {
		if (!injected(t, err))
			thread_fail(t, "BUDGET_GET of the own VM: %s",
				    strerror(err));
		return;
	}
	if (memcmp(&after, &t->bcur, sizeof(after))) {
		thread_fail(t, "own VM's budget after BUDGET_%s (%s): %s, want %s",
			    set ? "SET" : "GET", b_str(&q, s1, sizeof(s1)),
			    b_str(&after, s2, sizeof(s2)),
			    b_str(&t->bcur, s1, sizeof(s1)));
		t->bcur = after;
	}
}

/* ---- read() and poll() ---- */

static void on_alarm(int sig)
{
	(void)sig;
}

/* Interrupt this thread every 2 ms while a blocking read() waits. */
static void arm_timer(struct fuzz_thread *t, bool on)
{
	struct itimerspec its = {};

	if (!t->timer_ok)
		return;
	if (on) {
		its.it_value.tv_nsec = 2000000;
		its.it_interval.tv_nsec = 2000000;
	}
	timer_settime(t->timer, 0, &its, NULL);
}

/* Check the records of a successful read(); returns false on a failure. */
static bool check_events(struct fuzz_thread *t, int fdi, const uint8_t *p,
			 ssize_t ret, size_t len)
{
	struct kvmw_event ev;
	uint64_t prev = t->last_seq[fdi];
	struct timespec ts;
	uint64_t now;
	ssize_t off;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (ret < (ssize_t)sizeof(ev) || ret % sizeof(ev) ||
	    (size_t)ret > len || ret / sizeof(ev) > EVENT_READ_MAX) {
		thread_fail(t, "read(%zu) returned %zd: not whole records of %zu, at most %u",
			    len, ret, sizeof(ev), EVENT_READ_MAX);
		return false;
	}
	for (off = 0; off < ret; off += sizeof(ev)) {
		memcpy(&ev, p + off, sizeof(ev));
		if (ev.size != sizeof(ev) || ev.version != KVMW_EVENT_VERSION) {
			thread_fail(t, "event: size %u version %u", ev.size,
				    ev.version);
			return false;
		}
		if (prev && ev.seq != prev + 1 + ev.lost) {
			thread_fail(t, "event seq %llu after %llu with %llu lost",
				    (unsigned long long)ev.seq,
				    (unsigned long long)prev,
				    (unsigned long long)ev.lost);
			return false;
		}
		if (off && ev.lost) {
			thread_fail(t, "lost %llu on a record but the first",
				    (unsigned long long)ev.lost);
			return false;
		}
		if (!vm_id_sane(ev.vm_id) || ev.vmm_pid - 1 >= PID_MAX ||
		    ev.tid > PID_MAX || ev.time_ns > now || !ev.seq) {
			thread_fail(t, "event seq %llu type %u: vm_id %llu pid %u tid %u time %llu",
				    (unsigned long long)ev.seq, ev.type,
				    (unsigned long long)ev.vm_id, ev.vmm_pid,
				    ev.tid, (unsigned long long)ev.time_ns);
			return false;
		}
		if (scan_pointers(p + off, sizeof(ev)) >= 0) {
			thread_fail(t, "event: kernel pointer");
			return false;
		}
		prev = ev.seq;
	}
	t->last_seq[fdi] = prev;
	return true;
}

static size_t pick_read_len(struct rng *r)
{
	static const size_t lens[] = {
		0, 1, 8, 119, 120, 121, 239, 240, 241, 3839, 3840, 3841, 3960,
		4096, 12288, 65536, 1 << 20, 1 << 30, (size_t)1 << 40,
		0x7ffff000, ~(size_t)0 >> 1, ~(size_t)0,
	};

	if (rng_chance(r, 1, 4))
		return rng_below(r, 8192);
	return lens[rng_below(r, ARRAY_SIZE(lens))];
}

static int do_read(struct fuzz_thread *t, int fdi, size_t len,
		   struct place *pl)
{
	size_t need = (len / sizeof(struct kvmw_event) < EVENT_READ_MAX ?
		       len / sizeof(struct kvmw_event) : EVENT_READ_MAX) *
		      sizeof(struct kvmw_event);
	uint8_t *arena = t->m.arr[0], *lo = NULL, *hi = NULL;
	/* Past the user address space the VFS refuses it (access_ok()). */
	bool huge = pl->addr + len < pl->addr ||
		    pl->addr + len > 0x7ffffffff000ULL;
	int err, fd = t->fd[fdi];
	ssize_t ret;
	long off;

	if (pl->p) {
		lo = pl->p - arena > MARGIN ? pl->p - MARGIN : arena;
		hi = pl->p + (pl->wr < need + MARGIN ? pl->wr : need + MARGIN);
	}
	if (fdi)
		arm_timer(t, true);
	ret = read(fd, (void *)(uintptr_t)pl->addr, len);
	err = ret < 0 ? errno : 0;
	if (fdi)
		arm_timer(t, false);
	count_call(t, ROW_READ, err);

	if (len < sizeof(struct kvmw_event)) {
		/* The VFS checks the buffer (access_ok()) before the driver. */
		if (err != EINVAL &&
		    !(err == EFAULT && (huge || pl->kind >= PK_KERNEL)))
			thread_fail(t, "read(%zu) at %s: %s, expected EINVAL",
				    len, pk_names[pl->kind], strerror(err));
	} else if (err == EFAULT) {
		if (pl->wr >= need && !huge)
			thread_fail(t, "read(%zu) at %s (%zu writable): EFAULT",
				    len, pk_names[pl->kind], pl->wr);
	} else if (err == EAGAIN) {
		if (fdi)
			thread_fail(t, "EAGAIN on a blocking file");
	} else if (err == EINTR) {
		if (!fdi)
			thread_fail(t, "EINTR on a non-blocking file");
	} else if (err) {
		if (!injected(t, err))
			thread_fail(t, "read(%zu) at %s: %s", len,
				    pk_names[pl->kind], strerror(err));
	} else if (!pl->p || (size_t)ret > pl->wr) {
		thread_fail(t, "read(%zu) at %s (%zu writable) returned %zd",
			    len, pk_names[pl->kind], pl->wr, ret);
	} else {
		check_events(t, fdi, pl->p, ret, len);
	}
	if (pl->p) {
		off = not_canary(lo, pl->p - lo);
		if (off >= 0)
			thread_fail(t, "read(): byte written before the buffer");
		if (!err || err == EFAULT) {
			uint8_t *end = pl->p + (err ? need : (size_t)ret);

			if (end < hi && not_canary(end, hi - end) >= 0)
				thread_fail(t, "read(%zu) returned %zd: byte written past it",
					    len, ret);
		}
		memset(lo, CANARY, hi - lo);
	}
	return err;
}

static void op_read(struct fuzz_thread *t)
{
	struct rng *r = &t->rng;
	size_t len = pick_read_len(r);
	size_t need = len < EVENT_READ_MAX * sizeof(struct kvmw_event) ?
		      len : EVENT_READ_MAX * sizeof(struct kvmw_event);
	struct place pl;

	place(t, &pl, pick_kind(r), t->m.arr[0], ARR_RW, need);
	do_read(t, rng_chance(r, 1, 4), len, &pl);
}

static void op_poll(struct fuzz_thread *t)
{
	static const short evs[] = {
		POLLIN, POLLIN | POLLOUT, POLLPRI | POLLRDNORM, POLLOUT, 0,
	};
	struct rng *r = &t->rng;
	int fdi = rng_below(r, 2), ret, err;
	struct pollfd p = { t->fd[fdi], evs[rng_below(r, ARRAY_SIZE(evs))], 0 };
	struct place pl;

	ret = poll(&p, 1, rng_chance(r, 1, 8) ? 1 : 0);
	err = ret < 0 ? errno : 0;
	count_call(t, ROW_POLL, err);
	if (err && err != EINTR) {
		thread_fail(t, "poll(): %s", strerror(err));
		return;
	}
	if (ret > 0 && (p.revents & ~(POLLIN | POLLRDNORM))) {
		thread_fail(t, "poll(): revents %#x", p.revents);
		return;
	}
	/* Ready means a non-blocking read returns a record at once. */
	if (ret > 0 && (p.revents & POLLIN) && !fdi) {
		place(t, &pl, PK_START, t->m.arr[0], ARR_RW, 0);
		err = do_read(t, 0, EVENT_READ_MAX * sizeof(struct kvmw_event),
			      &pl);
		if (err == EAGAIN)
			thread_fail(t, "poll() said POLLIN, read() said EAGAIN");
	}
}

/* ---- valid calls: must succeed ---- */

static int valid_handshake(struct fuzz_thread *t, int fd)
{
	struct kvmw_handshake hs;
	int ret = kvmw_handshake(fd, &hs);

	count_call(t, NR_IOCTLS + IO_HANDSHAKE, -ret);
	if (ret) {
		thread_fail(t, "valid HANDSHAKE: %s", strerror(-ret));
		return -1;
	}
	if (hs.api_version != KVMW_API_VERSION || hs.reserved ||
	    hs.vendor > KVMW_VENDOR_SVM ||
	    !(hs.features & KVMW_FEAT_EXIT_COUNTS) || !hs.nr_reason_slots) {
		thread_fail(t, "valid HANDSHAKE: api %u vendor %u features %#llx reserved %u slots %u",
			    hs.api_version, hs.vendor,
			    (unsigned long long)hs.features, hs.reserved,
			    hs.nr_reason_slots);
		return -1;
	}
	return 0;
}

static int valid_list(struct fuzz_thread *t, int fd)
{
	struct kvmw_vm_info *vms;
	const char *why;
	uint32_t nr, i;
	int ret;

	ret = kvmw_list_vms(fd, &vms, &nr);
	count_call(t, NR_IOCTLS + IO_LIST_VMS, -ret);
	if (ret && injected(t, -ret))
		return 0;
	if (ret) {
		thread_fail(t, "valid LIST_VMS: %s", strerror(-ret));
		return -1;
	}
	for (i = 0; i < nr; i++) {
		why = check_vm_info((const uint8_t *)&vms[i], sizeof(vms[i]));
		if (why) {
			thread_fail(t, "valid LIST_VMS: VM %u: %s", i, why);
			free(vms);
			return -1;
		}
		__atomic_store_n(&t->f->ids[rng_below(&t->rng, NR_IDS)],
				 vms[i].vm_id, __ATOMIC_RELAXED);
	}
	free(vms);
	return 0;
}

static int valid_snapshot(struct fuzz_thread *t, int fd)
{
	struct kvmw_vm_info *vms;
	struct kvmw_snap s;
	struct answer a = {};
	const char *why = NULL;
	uint32_t nr, i;
	int ret;

	ret = kvmw_list_vms(fd, &vms, &nr);
	count_call(t, NR_IOCTLS + IO_LIST_VMS, -ret);
	if (ret && injected(t, -ret))
		return 0;
	if (ret) {
		thread_fail(t, "valid LIST_VMS: %s", strerror(-ret));
		return -1;
	}
	if (!nr) {
		free(vms);
		return 0;
	}
	i = rng_below(&t->rng, nr);
	ret = kvmw_snapshot(fd, vms[i].vm_id, &s);
	count_call(t, NR_IOCTLS + IO_VM_SNAPSHOT, -ret);
	/* A gone VM can be reaped between the two calls; a live one not. */
	if ((ret == -ENOENT && (vms[i].flags & KVMW_VM_F_GONE)) ||
	    injected(t, -ret)) {
		kvmw_snap_free(&s);
		free(vms);
		return 0;
	}
	if (ret) {
		thread_fail(t, "valid VM_SNAPSHOT of vm_id %llu (%s): %s",
			    (unsigned long long)vms[i].vm_id,
			    vms[i].flags & KVMW_VM_F_GONE ? "gone" : "live",
			    strerror(-ret));
		free(vms);
		return -1;
	}
	a.has[ELEM_VCPU] = a.has[ELEM_REASON] = true;
	a.count[ELEM_VCPU] = s.hdr.nr_vcpus;
	a.count[ELEM_REASON] = s.hdr.nr_reasons;
	if (s.hdr.vm.vm_id != vms[i].vm_id || s.hdr.vm.nr_vcpus != s.hdr.nr_vcpus)
		why = "vm.vm_id or vm.nr_vcpus";
	for (i = 0; !why && i < s.hdr.nr_vcpus; i++)
		why = check_elem(ELEM_VCPU, (const uint8_t *)&s.vcpus[i],
				 sizeof(s.vcpus[i]), &a, i);
	for (i = 0; !why && i < s.hdr.nr_reasons; i++)
		why = check_elem(ELEM_REASON, (const uint8_t *)&s.reasons[i],
				 sizeof(s.reasons[i]), &a, i);
	if (why)
		thread_fail(t, "valid VM_SNAPSHOT: %s", why);
	kvmw_snap_free(&s);
	free(vms);
	return why ? -1 : 0;
}

static int valid_snapshot_all(struct fuzz_thread *t, int fd)
{
	struct kvmw_snapshot_all req;
	struct kvmw_vm_entry *vms = NULL;
	struct kvmw_vcpu_info *vcpus = NULL;
	struct kvmw_reason_stat *reasons = NULL;
	uint32_t cv = 0, cc = 0, cr = 0, i;
	const char *why = NULL;
	struct answer a = {};
	int tries, ret = -E2BIG;

	for (tries = 0; tries < 8; tries++) {
		memset(&req, 0, sizeof(req));
		req.size = sizeof(req);
		req.vms_ptr = (uintptr_t)vms;
		req.vm_entry_size = sizeof(*vms);
		req.max_vms = cv;
		req.vcpus_ptr = (uintptr_t)vcpus;
		req.vcpu_info_size = sizeof(*vcpus);
		req.max_vcpus = cc;
		req.reasons_ptr = (uintptr_t)reasons;
		req.reason_stat_size = sizeof(*reasons);
		req.max_reasons = cr;
		ret = ioctl(fd, KVMW_IOC_SNAPSHOT_ALL, &req) ? -errno : 0;
		count_call(t, NR_IOCTLS + IO_SNAPSHOT_ALL, -ret);
		if (ret && ret != -E2BIG)
			break;
		if (!ret && (cv || cc || cr))
			break;
		cv = req.nr_vms + 4;
		cc = req.nr_vcpus + 8;
		cr = req.nr_reasons + 64;
		free(vms);
		free(vcpus);
		free(reasons);
		vms = calloc(cv, sizeof(*vms));
		vcpus = calloc(cc, sizeof(*vcpus));
		reasons = calloc(cr, sizeof(*reasons));
		if (!vms || !vcpus || !reasons) {
			ret = -ENOMEM;
			break;
		}
		ret = -E2BIG;
	}
	if (injected(t, -ret)) {
		ret = 0;
	} else if (ret) {
		thread_fail(t, "valid SNAPSHOT_ALL: %s after %d tries",
			    strerror(-ret), tries);
	} else {
		a.has[ELEM_VCPU] = a.has[ELEM_REASON] = true;
		a.count[ELEM_VCPU] = req.nr_vcpus;
		a.count[ELEM_REASON] = req.nr_reasons;
		for (i = 0; !why && i < req.nr_vms; i++)
			why = check_elem(ELEM_VM_ENTRY, (const uint8_t *)&vms[i],
					 sizeof(vms[i]), &a, i);
		for (i = 0; !why && i < req.nr_vcpus; i++)
			why = check_elem(ELEM_VCPU, (const uint8_t *)&vcpus[i],
					 sizeof(vcpus[i]), &a, i);
		for (i = 0; !why && i < req.nr_reasons; i++)
			why = check_elem(ELEM_REASON,
					 (const uint8_t *)&reasons[i],
					 sizeof(reasons[i]), &a, i);
		if (why)
			thread_fail(t, "valid SNAPSHOT_ALL: %s", why);
	}
	free(vms);
	free(vcpus);
	free(reasons);
	return ret || why ? -1 : 0;
}

/* STATS_DESC into a new array; 0 or -errno. Counts its calls. */
static int stats_desc(struct fuzz_thread *t, int fd, struct kvmw_stats_desc *d,
		      struct kvmw_stat_desc **descs)
{
	int tries, ret = -E2BIG;
	uint32_t cap = 0;

	*descs = NULL;
	for (tries = 0; tries < 4 && ret == -E2BIG; tries++) {
		memset(d, 0, sizeof(*d));
		d->size = sizeof(*d);
		d->descs_ptr = (uintptr_t)*descs;
		d->desc_size = sizeof(**descs);
		d->max_descs = cap;
		ret = ioctl(fd, KVMW_IOC_STATS_DESC, d) ? -errno : 0;
		if (t)
			count_call(t, NR_IOCTLS + IO_STATS_DESC, -ret);
		if (ret || cap)
			break;
		/* The query: now the whole table, plus one to spare. */
		cap = d->nr_descs + 1;
		free(*descs);
		*descs = calloc(cap, sizeof(**descs));
		if (!*descs)
			return -ENOMEM;
		ret = -E2BIG;
	}
	return ret;
}

static int valid_stats_desc(struct fuzz_thread *t, int fd)
{
	struct kvmw_stat_desc *descs;
	struct kvmw_stats_desc d;
	struct answer a = {};
	const char *why = NULL;
	uint32_t i;
	int ret;

	ret = stats_desc(t, fd, &d, &descs);
	if (ret) {
		thread_fail(t, "valid STATS_DESC: %s", strerror(-ret));
		free(descs);
		return -1;
	}
	if (!same_layout(&d))
		why = "counts differ from those read at start-up";
	for (i = 0; !why && i < d.nr_descs; i++)
		why = check_elem(ELEM_STAT_DESC, (const uint8_t *)&descs[i],
				 sizeof(descs[i]), &a, i);
	if (why)
		thread_fail(t, "valid STATS_DESC: descriptor %u: %s", i, why);
	free(descs);
	return why ? -1 : 0;
}

/* A STATS_READ answer in arrays of the module's record sizes. */
struct sread {
	struct kvmw_stats_read hdr;
	uint8_t *vms, *vcpus, *reasons;
	uint32_t vm_size, vcpu_size, reason_size;
};

static void sread_free(struct sread *r)
{
	free(r->vms);
	free(r->vcpus);
	free(r->reasons);
	r->vms = r->vcpus = r->reasons = NULL;
}

/* Read VM @vm_id (0: every VM), retrying on E2BIG; 0 or -errno. */
static int sread(struct fuzz_thread *t, int fd, uint64_t vm_id,
		 struct sread *r)
{
	struct kvmw_stats_read *h = &r->hdr;
	uint32_t cv = 0, cc = 0, cr = 0;
	int tries, ret = -E2BIG;

	memset(r, 0, sizeof(*r));
	r->vm_size = elem_types[ELEM_VM_REC].known;
	r->vcpu_size = elem_types[ELEM_VCPU_REC].known;
	r->reason_size = elem_types[ELEM_REASON_REC].known;
	for (tries = 0; tries < 8; tries++) {
		memset(h, 0, sizeof(*h));
		h->size = sizeof(*h);
		h->vm_id = vm_id;
		h->vms_ptr = (uintptr_t)r->vms;
		h->vm_rec_size = r->vm_size;
		h->max_vms = cv;
		h->vcpus_ptr = (uintptr_t)r->vcpus;
		h->vcpu_rec_size = r->vcpu_size;
		h->max_vcpus = cc;
		h->reasons_ptr = (uintptr_t)r->reasons;
		h->reason_rec_size = r->reason_size;
		h->max_reasons = cr;
		ret = ioctl(fd, KVMW_IOC_STATS_READ, h) ? -errno : 0;
		count_call(t, NR_IOCTLS + IO_STATS_READ, -ret);
		if (ret && ret != -E2BIG)
			break;
		if (!ret && (cv || cc || cr))
			break;
		cv = h->nr_vms + 4;
		cc = h->nr_vcpus + 8;
		cr = h->nr_reasons + 64;
		sread_free(r);
		r->vms = calloc(cv, r->vm_size);
		r->vcpus = calloc(cc, r->vcpu_size);
		r->reasons = calloc(cr, r->reason_size);
		if (!r->vms || !r->vcpus || !r->reasons) {
			ret = -ENOMEM;
			break;
		}
		ret = -E2BIG;
	}
	return ret;
}

/*
 * The records of a whole answer: each sane, and their cross references
 * exact: VMs tile the vCPU records in order, vCPUs the reason records,
 * and every vCPU and reason points back at its owner.
 */
static const char *check_sread(const struct sread *r, uint64_t vm_id,
			       uint64_t now)
{
	const struct kvmw_stats_read *h = &r->hdr;
	uint32_t i, j, k, nv = 0, nr = 0;
	struct answer a = {};
	const char *why;

	a.has[ELEM_VM_REC] = true;
	a.has[ELEM_VCPU_REC] = true;
	a.has[ELEM_REASON_REC] = true;
	a.count[ELEM_VM_REC] = h->nr_vms;
	a.count[ELEM_VCPU_REC] = h->nr_vcpus;
	a.count[ELEM_REASON_REC] = h->nr_reasons;
	a.vm_id = vm_id;
	if (!h->time_ns || h->time_ns > now)
		return "time_ns 0 or in the future";
	if (vm_id && h->nr_vms != 1)
		return "one VM asked for, nr_vms not 1";
	for (i = 0; i < h->nr_vms; i++) {
		const uint8_t *p = r->vms + (size_t)i * r->vm_size;
		const struct kvmw_vm_rec *vm = (const void *)p;

		if (scan_pointers(p, KVMW_VM_REC_HDR_SIZE) >= 0)
			return "VM record: kernel pointer in the header";
		why = check_elem(ELEM_VM_REC, p, r->vm_size, &a, i);
		if (why)
			return why;
		if (vm->first_vcpu != nv)
			return "VM records do not tile the vCPU records";
		for (j = nv; j < nv + vm->nr_vcpus; j++) {
			const uint8_t *q = r->vcpus + (size_t)j * r->vcpu_size;
			const struct kvmw_vcpu_rec *vc = (const void *)q;

			if (scan_pointers(q, KVMW_VCPU_REC_HDR_SIZE) >= 0)
				return "vCPU record: kernel pointer in the header";
			why = check_elem(ELEM_VCPU_REC, q, r->vcpu_size, &a, j);
			if (why)
				return why;
			if (vc->vm_index != i)
				return "vCPU record: vm_index not its VM";
			if (j > nv && vc->vcpu_id <=
			    ((const struct kvmw_vcpu_rec *)
			     (q - r->vcpu_size))->vcpu_id)
				return "vCPU records not in vcpu_id order";
			if (vc->first_reason != nr)
				return "vCPU records do not tile the reason records";
			for (k = nr; k < nr + vc->nr_reasons; k++) {
				const uint8_t *x = r->reasons +
						   (size_t)k * r->reason_size;
				const struct kvmw_reason_rec *rr =
					(const void *)x;

				if (scan_pointers(x, KVMW_REASON_REC_HDR_SIZE) >= 0)
					return "reason record: kernel pointer in the header";
				why = check_elem(ELEM_REASON_REC, x,
						 r->reason_size, &a, k);
				if (why)
					return why;
				if (rr->vcpu_index != j)
					return "reason record: vcpu_index not its vCPU";
				if (k > nr && rr->reason <=
				    ((const struct kvmw_reason_rec *)
				     (x - r->reason_size))->reason)
					return "reason records not in code order";
			}
			nr += vc->nr_reasons;
		}
		nv += vm->nr_vcpus;
	}
	if (nv != h->nr_vcpus || nr != h->nr_reasons)
		return "vCPU or reason records owned by no VM";
	return NULL;
}

/* Every VM, then one VM by id: both must succeed and be consistent. */
static int valid_stats_read(struct fuzz_thread *t, int fd)
{
	const struct kvmw_vm_rec *vm, *one;
	struct sread all, r1;
	const char *why;
	uint64_t id;
	uint32_t i;
	int ret;

	ret = sread(t, fd, 0, &all);
	if (injected(t, -ret)) {
		sread_free(&all);
		return 0;
	}
	if (ret) {
		thread_fail(t, "valid STATS_READ of every VM: %s",
			    strerror(-ret));
		sread_free(&all);
		return -1;
	}
	why = check_sread(&all, 0, boottime_ns());
	if (why || !all.hdr.nr_vms) {
		if (why)
			thread_fail(t, "valid STATS_READ of every VM: %s", why);
		sread_free(&all);
		return why ? -1 : 0;
	}
	i = rng_below(&t->rng, all.hdr.nr_vms);
	vm = (const void *)(all.vms + (size_t)i * all.vm_size);
	id = vm->vm_id;
	ret = sread(t, fd, id, &r1);
	/* A gone VM can be reaped between the two calls; a live one not. */
	if ((ret == -ENOENT && (vm->flags & KVMW_VM_F_GONE)) ||
	    injected(t, -ret)) {
		ret = 0;
		goto out;
	}
	if (ret) {
		thread_fail(t, "valid STATS_READ of vm_id %llu (%s): %s",
			    (unsigned long long)id,
			    vm->flags & KVMW_VM_F_GONE ? "gone" : "live",
			    strerror(-ret));
		ret = -1;
		goto out;
	}
	why = check_sread(&r1, id, boottime_ns());
	one = (const void *)r1.vms;
	if (!why && (one->vmm_pid != vm->vmm_pid ||
		     memcmp(one->comm, vm->comm, sizeof(vm->comm)) ||
		     one->first_seen_ns != vm->first_seen_ns ||
		     one->vendor != vm->vendor))
		why = "identity differs from the read of every VM";
	if (!why && r1.hdr.time_ns < all.hdr.time_ns)
		why = "time_ns went backwards";
	if (why) {
		thread_fail(t, "valid STATS_READ of vm_id %llu: %s",
			    (unsigned long long)id, why);
		ret = -1;
	}
out:
	sread_free(&r1);
	sread_free(&all);
	return ret;
}

/*
 * The statistics layout, read once at start-up: it sizes the records of
 * STATS_READ (fuzzed element sizes are picked around them) and every
 * later STATS_DESC answer must equal it.
 */
static int layout_init(int fd, char *why, size_t size)
{
	static const enum elem_kind recs[3] = {
		ELEM_VM_REC, ELEM_VCPU_REC, ELEM_REASON_REC,
	};
	uint32_t values[3], i;
	struct answer a = {};
	const char *bad;
	int ret;

	ret = stats_desc(NULL, fd, &layout.hdr, &layout.descs);
	if (ret) {
		snprintf(why, size, "STATS_DESC: %s", strerror(-ret));
		return -1;
	}
	values[0] = layout.hdr.vm_values;
	values[1] = layout.hdr.vcpu_values;
	values[2] = layout.hdr.reason_values;
	layout.reason_exits = ~0U;
	for (i = 0; i < layout.hdr.nr_descs; i++) {
		const struct kvmw_stat_desc *d = &layout.descs[i];

		bad = check_elem(ELEM_STAT_DESC, (const uint8_t *)d,
				 sizeof(*d), &a, i);
		if (bad) {
			snprintf(why, size, "descriptor %u (%.48s): %s", i,
				 d->name, bad);
			return -1;
		}
		if (d->scope == KVMW_SCOPE_REASON && !strcmp(d->name, "exits"))
			layout.reason_exits = d->offset;
	}
	for (i = 0; i < 3; i++) {
		struct elem_type *e = &elem_types[recs[i]];
		uint32_t hdr = e->ver0;

		/* Values far beyond a page are not what this fuzzes. */
		if (values[i] > (KPAGE - hdr) / 8) {
			snprintf(why, size, "%s: %u values", e->name, values[i]);
			return -1;
		}
		e->known = hdr + 8 * values[i];
		/* Cut short to one value, to all but one, and whole. */
		e->vers[0] = hdr;
		e->vers[1] = values[i] ? hdr + 8 : hdr;
		e->vers[2] = values[i] ? e->known - 8 : hdr;
		e->vers[3] = e->known;
	}
	return 0;
}

/* ---- files, and the unload/reload protocol ---- */

static int open_dev(int flags)
{
	int fd = open(KVMW_DEVICE_PATH, flags | O_CLOEXEC);

	return fd >= 0 ? fd : -errno;
}

static void close_fds(struct fuzz_thread *t)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (t->fd[i] >= 0)
			close(t->fd[i]);
		t->fd[i] = -1;
		t->last_seq[i] = 0;
	}
}

/* Open both files; the module is loaded. Returns 0 or -1 (recorded). */
static int open_fds(struct fuzz_thread *t)
{
	static const int flags[2] = { O_RDONLY | O_NONBLOCK, O_RDWR };
	int i, fd, waited;

	for (i = 0; i < 2; i++) {
		for (waited = 0;; waited += 10) {
			fd = open_dev(flags[i]);
			if (fd >= 0 || waited >= 10000)
				break;
			/* The node can lag behind the load (devtmpfs). */
			kvmw_ensure_devnode(KVMW_DEVICE_PATH, KVMW_SYSFS_DEV, 100);
			sleep_ms(10);
		}
		count_call(t, ROW_OPEN, fd < 0 ? -fd : 0);
		if (fd < 0) {
			thread_fail(t, "open(%s): %s", KVMW_DEVICE_PATH,
				    strerror(-fd));
			close_fds(t);
			return -1;
		}
		t->fd[i] = fd;
		t->last_seq[i] = 0;
	}
	return valid_handshake(t, t->fd[rng_below(&t->rng, 2)]);
}

/* While the module is being unloaded: an open now and then races it. */
static void drain_open(struct fuzz_thread *t)
{
	int fd = open_dev(O_RDONLY), err = fd < 0 ? -fd : 0;

	count_call(t, ROW_OPEN_DRAIN, err);
	if (fd >= 0) {
		/* It holds the module: it must work like any other file. */
		valid_handshake(t, fd);
		close(fd);
	} else if (err != ENOENT && err != ENODEV && err != ENXIO &&
		   !injected(t, err)) {
		thread_fail(t, "open() during unload: %s", strerror(err));
	}
}

static void full_scan(struct fuzz_thread *t)
{
	long off;
	int i;

	off = not_canary(t->m.arg, ARG_RW);
	if (off >= 0) {
		thread_fail(t, "stray byte at offset %ld of the argument buffer",
			    off);
		memset(t->m.arg, CANARY, ARG_RW);
	}
	for (i = 0; i < NR_ARENAS; i++) {
		off = not_canary(t->m.arr[i], ARR_RW);
		if (off >= 0) {
			thread_fail(t, "stray byte at offset %ld of array buffer %d",
				    off, i);
			memset(t->m.arr[i], CANARY, ARR_RW);
		}
	}
}

static void one_op(struct fuzz_thread *t)
{
	struct rng *r = &t->rng;
	uint32_t x = rng_below(r, 100);

	if (x < 64) {
		op_ioctl(t, rng_below(r, NR_IOCTLS));
	} else if (x < 70) {
		op_budget(t);
	} else if (x < 76) {
		op_badcmd(t);
	} else if (x < 86) {
		op_read(t);
	} else if (x < 92) {
		op_poll(t);
	} else if (x < 99) {
		fuzz_ioctls[rng_below(r, NR_IOCTLS)].valid(t, t->fd[rng_below(r, 2)]);
	} else {
		/* A new file: release racing with the other threads' calls. */
		close_fds(t);
		open_fds(t);
	}
	if (t->ncalls % FULL_SCAN == 0)
		full_scan(t);
}

static void *fuzz_thread_fn(void *arg)
{
	struct fuzz_thread *t = arg;
	struct fuzz *f = t->f;
	struct sigevent sev = {};

	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR1;
	/* glibc 2.36 has no sigev_notify_thread_id macro yet. */
	sev._sigev_un._tid = syscall(SYS_gettid);
	t->timer_ok = !timer_create(CLOCK_MONOTONIC, &sev, &t->timer);

	while (!stopping(f)) {
		if (__atomic_load_n(&f->phase, __ATOMIC_ACQUIRE) == PHASE_DRAIN) {
			unsigned int gen = __atomic_load_n(&f->gen,
							   __ATOMIC_ACQUIRE);

			if (t->gen_seen != gen) {
				close_fds(t);
				t->gen_seen = gen;
				__atomic_add_fetch(&f->acks, 1,
						   __ATOMIC_RELEASE);
			}
			if (rng_chance(&t->rng, 1, 4))
				drain_open(t);
			sleep_ms(1);
			continue;
		}
		if (t->fd[0] < 0 && open_fds(t)) {
			sleep_ms(100);
			continue;
		}
		one_op(t);
	}
	close_fds(t);
	if (t->bvm)
		vm_destroy(t->bvm);
	t->bvm = NULL;
	if (t->timer_ok)
		timer_delete(t->timer);
	return NULL;
}

/* ---- VM churn ---- */

struct churn {
	struct fuzz *f;
	pthread_t thread;
	struct rng rng;
};

static void churn_fail(struct fuzz *f, const char *msg)
{
	pthread_mutex_lock(&f->lock);
	if (!f->churn_failed++)
		snprintf(f->churn_msg, sizeof(f->churn_msg), "%s", msg);
	pthread_mutex_unlock(&f->lock);
}

/* Create, run and destroy VMs of one or two vCPUs until told to stop. */
static void *churn_fn(void *arg)
{
	struct churn *c = arg;
	struct fuzz *f = c->f;

	while (!stopping(f)) {
		struct kvm_vm *vm = vm_create(NULL);
		int nv = 1 + rng_below(&c->rng, 2), i, bad = 0;

		if (!vm) {
			churn_fail(f, "vm_create failed");
			sleep_ms(100);
			continue;
		}
		for (i = 0; i < nv && !bad; i++)
			bad = !vcpu_add(vm) ||
			      vcpu_load_prog(vm->vcpus[i], GUEST_PROG_CPUID,
					     10 + rng_below(&c->rng, 90));
		if (!bad && nv == 1) {
			bad = vcpu_run(vm->vcpus[0]);
		} else if (!bad) {
			for (i = 0; i < nv && !bad; i++)
				bad = vcpu_start(vm->vcpus[i]);
			for (i = 0; i < vm->nr_vcpus; i++)
				if (vm->vcpus[i]->started)
					bad |= vcpu_join(vm->vcpus[i]);
		}
		if (bad)
			churn_fail(f, vm->nr_vcpus ? vm->vcpus[0]->res.msg :
				   "vcpu_add failed");
		vm_destroy(vm);
		__atomic_add_fetch(&f->churn_vms, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* ---- the unload/reload rounds, on the main thread ---- */

static void coord_count(struct fuzz *f, unsigned int row, int err)
{
	f->coord[row][err_class(err)]++;
}

/* Returns 0, or -1 after recording a failure (then stop reloading). */
static int reload_round(struct fuzz *f)
{
	char msg[256];
	double t0;
	int fd, err, ret;

	/* An open file holds the module: the unload must be refused. */
	fd = open_dev(O_RDONLY);
	if (fd >= 0) {
		err = syscall(SYS_delete_module, KVMW_MODULE_NAME, O_NONBLOCK) ?
		      errno : 0;
		coord_count(f, ROW_RMMOD_OPEN, err);
		if (err != EAGAIN && err != EBUSY) {
			snprintf(msg, sizeof(msg),
				 "delete_module() with a file open: %s",
				 err ? strerror(err) : "succeeded");
			record_failure(f, msg);
		}
		close(fd);
		if (!err)
			goto load;
	}

	__atomic_store_n(&f->acks, 0, __ATOMIC_RELEASE);
	__atomic_add_fetch(&f->gen, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&f->phase, PHASE_DRAIN, __ATOMIC_RELEASE);
	for (t0 = now_ms(); __atomic_load_n(&f->acks, __ATOMIC_ACQUIRE) <
	     f->nr_threads; sleep_ms(1)) {
		if (now_ms() - t0 > 60000) {
			record_failure(f, "fuzzing threads did not close their files in 60 s");
			return -1;
		}
	}
	/* Opens racing with the unload make it busy now and then. */
	for (t0 = now_ms();; sleep_ms(1)) {
		err = syscall(SYS_delete_module, KVMW_MODULE_NAME, O_NONBLOCK) ?
		      errno : 0;
		coord_count(f, ROW_RMMOD, err);
		if (!err)
			break;
		if ((err != EAGAIN && err != EBUSY) || now_ms() - t0 > 20000) {
			snprintf(msg, sizeof(msg),
				 "delete_module() with the files closed: %s",
				 strerror(err));
			record_failure(f, msg);
			return -1;
		}
	}
	if (module_loaded(KVMW_MODULE_NAME)) {
		record_failure(f, "/sys/module/kvmwarden still there after the unload");
		return -1;
	}
	sleep_ms(20);
load:
	ret = module_load(f->path, "");
	if (ret) {
		snprintf(msg, sizeof(msg), "finit_module(%s): %s", f->path,
			 strerror(-ret));
		record_failure(f, msg);
		return -1;
	}
	ret = kvmw_ensure_devnode(KVMW_DEVICE_PATH, KVMW_SYSFS_DEV, 5000);
	if (ret) {
		snprintf(msg, sizeof(msg), "no %s after the load: %s",
			 KVMW_DEVICE_PATH, strerror(-ret));
		record_failure(f, msg);
		return -1;
	}
	/* Ids start from 1 again: forget the old ones. */
	memset(f->ids, 0, sizeof(f->ids));
	f->reloads++;
	__atomic_store_n(&f->phase, PHASE_RUN, __ATOMIC_RELEASE);
	return 0;
}

/*
 * A host-wide default budget left set would throttle every VM the fuzzer
 * and its churn create (a VM whose first exits are parked at a few per
 * second keeps its thread from the reload protocol for minutes). The
 * reloads forget them anyway: clear them now and say so.
 */
static void clear_default_budgets(struct __test_metadata *_metadata)
{
	struct kvmw_budget_default d;
	struct kvmw_budget b;
	unsigned int slot;
	int fd = open_dev(O_RDWR);

	if (fd < 0)
		return;
	for (slot = 0; slot < KVMW_BUDGET_MAX_DEFAULTS; slot++) {
		memset(&d, 0, sizeof(d));
		memset(&b, 0, sizeof(b));
		d.size = sizeof(d);
		d.slot = slot;
		d.budget_ptr = (uintptr_t)&b;
		b.size = sizeof(b);
		if (ioctl(fd, KVMW_IOC_BUDGET_DEFAULT_GET, &d))
			break;	/* ENOTTY: a module without them */
		if (b.mode == KVMW_BUDGET_OFF)
			continue;
		TH_LOG("default budget in slot %u (comm \"%.16s\", rate %llu/s) left set: cleared",
		       slot, d.comm, (unsigned long long)b.buckets[0].rate);
		memset(&d, 0, sizeof(d));
		memset(&b, 0, sizeof(b));
		d.size = sizeof(d);
		d.slot = slot;
		d.cgroup_fd = -1;
		d.budget_ptr = (uintptr_t)&b;
		b.size = sizeof(b);
		EXPECT_EQ(0, ioctl(fd, KVMW_IOC_BUDGET_DEFAULT_SET, &d) ?
			  errno : 0);
	}
	close(fd);
}

/* ---- the test ---- */

FIXTURE(fuzz) {
	struct fuzz f;
	struct fuzz_thread *threads;
	struct churn *churn;
	char why[160];
};

FIXTURE_SETUP(fuzz)
{
	int fd = open_dev(O_RDONLY);

	if (fd < 0) {
		snprintf(self->why, sizeof(self->why),
			 "%s: %s (kvmwarden not loaded)", KVMW_DEVICE_PATH,
			 strerror(-fd));
		return;
	}
	close(fd);
}

FIXTURE_TEARDOWN(fuzz)
{
	/* Whatever happened, leave the module loaded for the next tests. */
	if (!self->why[0] && !module_loaded(KVMW_MODULE_NAME) &&
	    !access(kvmw_module_path(), R_OK)) {
		module_load(kvmw_module_path(), "");
		kvmw_ensure_devnode(KVMW_DEVICE_PATH, KVMW_SYSFS_DEV, 5000);
	}
}

static void print_stats(struct __test_metadata *_metadata,
			uint64_t stats[NR_ROWS][NR_ERR])
{
	char line[512], name[64];
	unsigned int row, e;
	uint64_t total;
	int n;

	for (row = 0; row < NR_ROWS; row++) {
		total = 0;
		for (e = 0; e < NR_ERR; e++)
			total += stats[row][e];
		if (!total)
			continue;
		row_name(row, name, sizeof(name));
		n = snprintf(line, sizeof(line), "%-22s %9llu:", name,
			     (unsigned long long)total);
		for (e = 0; e < NR_ERR && n > 0 && (size_t)n < sizeof(line); e++)
			if (stats[row][e])
				n += snprintf(line + n, sizeof(line) - n,
					      " %s %llu", err_name(e),
					      (unsigned long long)stats[row][e]);
		TH_LOG("%s", line);
	}
}

TEST_F_TIMEOUT(fuzz, uapi, 86400)
{
	static uint64_t stats[NR_ROWS][NR_ERR];
	struct fuzz *f = &self->f;
	struct sigaction sa = {};
	double t0, elapsed, next;
	unsigned int i, row, e;
	struct timespec ts;
	uint64_t seconds;
	bool reload;
	int fd, ret;

	if (self->why[0])
		SKIP(return, "%s", self->why);

	clock_gettime(CLOCK_REALTIME, &ts);
	f->seed = env_u64("KVMW_FUZZ_SEED",
			  splitmix64(ts.tv_sec * 1000000000ULL + ts.tv_nsec));
	f->max_calls = env_u64("KVMW_FUZZ_CALLS", DEF_CALLS);
	seconds = env_u64("KVMW_FUZZ_SECONDS", DEF_SECONDS);
	f->nr_threads = env_u64("KVMW_FUZZ_THREADS", DEF_THREADS);
	f->nr_churn = env_u64("KVMW_FUZZ_CHURN", DEF_CHURN);
	/*
	 * Injection is confined to one loaded instance of the module (its
	 * address range, scripts/failslab.sh): no reloads unless asked for.
	 */
	f->inject = injecting();
	f->reload_ms = env_u64("KVMW_FUZZ_RELOAD_MS",
			       f->inject ? 0 : DEF_RELOAD_MS);
	f->path = kvmw_module_path();
	pthread_mutex_init(&f->lock, NULL);
	ASSERT_LT(0, f->nr_threads);
	f->kvm = kvm_available();
	if (!f->kvm)
		f->nr_churn = 0;
	reload = f->reload_ms && !geteuid() && !access(f->path, R_OK);
	TH_LOG("seed %#llx (KVMW_FUZZ_SEED=%#llx repeats each thread's calls)",
	       (unsigned long long)f->seed, (unsigned long long)f->seed);
	if (f->inject)
		TH_LOG("allocation failures are being injected: ENOMEM accepted from valid calls, open() and read()");
	TH_LOG("bounds: %llu calls or %llu s; %u fuzzing threads, %u churning VMs, reload every %u ms%s",
	       (unsigned long long)f->max_calls, (unsigned long long)seconds,
	       f->nr_threads, f->nr_churn, reload ? f->reload_ms : 0,
	       reload ? "" : " (no reloads: not root, no module file or disabled)");

	clear_default_budgets(_metadata);
	fd = open_dev(O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", KVMW_DEVICE_PATH, strerror(-fd));
	ret = layout_init(fd, self->why, sizeof(self->why));
	close(fd);
	ASSERT_EQ(0, ret) TH_LOG("statistics layout: %s", self->why);
	TH_LOG("statistics: %u descriptors, %u nodes, records of %u, %u and %u bytes",
	       layout.hdr.nr_descs, layout.hdr.nr_nodes,
	       elem_types[ELEM_VM_REC].known, elem_types[ELEM_VCPU_REC].known,
	       elem_types[ELEM_REASON_REC].known);

	memset(canary_block, CANARY, sizeof(canary_block));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	self->threads = calloc(f->nr_threads, sizeof(*self->threads));
	self->churn = calloc(f->nr_churn + 1, sizeof(*self->churn));
	ASSERT_NE(NULL, self->threads);
	ASSERT_NE(NULL, self->churn);
	for (i = 0; i < f->nr_threads; i++) {
		struct fuzz_thread *t = &self->threads[i];

		t->f = f;
		t->idx = i;
		t->fd[0] = t->fd[1] = -1;
		rng_seed(&t->rng, f->seed + i);
		ASSERT_EQ(0, mem_init(&t->m));
	}

	t0 = now_ms();
	f->deadline_ms = t0 + seconds * 1e3;
	for (i = 0; i < f->nr_churn; i++) {
		self->churn[i].f = f;
		rng_seed(&self->churn[i].rng, f->seed + 1000 + i);
		ASSERT_EQ(0, pthread_create(&self->churn[i].thread, NULL,
					    churn_fn, &self->churn[i]));
	}
	for (i = 0; i < f->nr_threads; i++)
		ASSERT_EQ(0, pthread_create(&self->threads[i].thread, NULL,
					    fuzz_thread_fn, &self->threads[i]));

	for (next = t0 + f->reload_ms; !stopping(f); sleep_ms(20)) {
		if (now_ms() >= f->deadline_ms)
			__atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
		if (!reload || now_ms() < next || stopping(f))
			continue;
		if (reload_round(f))
			break;
		next = now_ms() + f->reload_ms;
	}
	__atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&f->phase, PHASE_RUN, __ATOMIC_RELEASE);
	for (i = 0; i < f->nr_threads; i++)
		pthread_join(self->threads[i].thread, NULL);
	elapsed = now_ms() - t0;
	for (i = 0; i < f->nr_churn; i++)
		pthread_join(self->churn[i].thread, NULL);

	for (row = 0; row < NR_ROWS; row++)
		for (e = 0; e < NR_ERR; e++) {
			stats[row][e] = f->coord[row][e];
			for (i = 0; i < f->nr_threads; i++)
				stats[row][e] += self->threads[i].stats[row][e];
		}
	TH_LOG("%llu calls in %.1f s: %.0f calls/s; %u reloads, %u VMs created and destroyed",
	       (unsigned long long)f->calls, elapsed / 1e3,
	       f->calls / (elapsed / 1e3), f->reloads, f->churn_vms);
	print_stats(_metadata, stats);

	/* After all that, the module still answers correctly. */
	if (!module_loaded(KVMW_MODULE_NAME) && reload) {
		module_load(f->path, "");
		kvmw_ensure_devnode(KVMW_DEVICE_PATH, KVMW_SYSFS_DEV, 5000);
	}
	fd = open_dev(O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", KVMW_DEVICE_PATH, strerror(-fd));
	{
		struct fuzz_thread *t = &self->threads[0];

		t->ncalls = ~0ULL;
		for (i = 0; i < NR_IOCTLS; i++) {
			const struct fuzz_ioctl *io = &fuzz_ioctls[i];

			EXPECT_EQ(0, io->valid(t, fd))
				TH_LOG("final valid %s", io->name);
		}
	}
	close(fd);

	for (i = 0; i < f->nr_log; i++)
		TH_LOG("FAIL %s", f->log[i]);
	EXPECT_EQ(0, f->failures)
		TH_LOG("%u failures (first %u above); seed %#llx",
		       f->failures, f->nr_log, (unsigned long long)f->seed);
	EXPECT_EQ(0, f->churn_failed) TH_LOG("VM churn: %s", f->churn_msg);
	if (f->nr_churn)
		EXPECT_LT(0, f->churn_vms);
	if (reload && elapsed > 2.0 * f->reload_ms)
		EXPECT_LT(0, f->reloads);
	/* Each thread did make valid calls, which all succeeded. */
	for (i = 0; i < NR_IOCTLS; i++) {
		const struct fuzz_ioctl *io = &fuzz_ioctls[i];

		EXPECT_LT(0, stats[NR_IOCTLS + i][0])
			TH_LOG("no successful valid %s", io->name);
	}
	/* Budgets were set, and the model's rejections met. */
	if (f->kvm) {
		uint64_t sets = 0;
		unsigned int vms = 0, missed = 0;

		for (i = 0; i < f->nr_threads; i++) {
			sets += self->threads[i].bsets;
			vms += self->threads[i].bvms;
			missed += self->threads[i].bmissed;
		}
		TH_LOG("%llu budgets set on the threads' own VMs, each read back as the model said (%u own VMs, not found %u times)",
		       (unsigned long long)sets, vms, missed);
		EXPECT_LT(0, sets);
		EXPECT_LT(0, stats[ROW_BUDGET_SET][err_class(EINVAL)]);
	}

	for (i = 0; i < f->nr_threads; i++)
		mem_free(&self->threads[i].m);
	free(self->threads);
	free(self->churn);
	free(layout.descs);
}

TEST_HARNESS_MAIN
