/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libkvmwarden's device backend, its internal interface: /dev/kvmwarden
 * through the UAPI (handshake, VM list, per-VM and all-VM snapshots with
 * the E2BIG retry loop the UAPI asks for, event records) and the
 * conversion of its answers into the model of libkvmwarden.h. Only the
 * backend, the events command and the tests use this header; everything
 * else goes through struct kvmw_source and the model.
 *
 * The system calls go through a small table of operations so that tests
 * can put a fake module behind it.
 */
#ifndef KVMW_DEV_H
#define KVMW_DEV_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/kvmwarden.h>

struct kvmw_dev_ops {
	/* Returns a descriptor or -errno; @flags O_RDONLY or O_RDWR. */
	int (*open)(void *priv, const char *path, int flags);
	/* Returns 0 or -errno. */
	int (*ioctl)(void *priv, int fd, unsigned long req, void *arg);
	void (*close)(void *priv, int fd);
	/* read(2): bytes read or -errno (the event stream). */
	ssize_t (*read)(void *priv, int fd, void *buf, size_t len);
	/*
	 * Waits up to @timeout_ms (-1: no limit) for @fd to be readable,
	 * with the signal mask @mask while waiting (ppoll(2)). Returns 1
	 * when readable, 0 on timeout, -errno (-EINTR: a signal came).
	 */
	int (*poll)(void *priv, int fd, int timeout_ms, const sigset_t *mask);
	void *priv;
};

/* open(2), ioctl(2) and close(2). */
extern const struct kvmw_dev_ops kvmw_dev_sys_ops;

struct kvmw_dev {
	int fd;
	const struct kvmw_dev_ops *ops;
	/* Answer of the last handshake. */
	struct kvmw_handshake hs;
};

/*
 * One VM as read by KVMW_IOC_VM_SNAPSHOT, or cut out of a
 * KVMW_IOC_SNAPSHOT_ALL answer: the same thing either way (vcpu_index and
 * first_reason index this VM's own arrays).
 */
struct kvmw_vm_snap {
	struct kvmw_vm_info vm;
	struct kvmw_vcpu_info *vcpus;
	__u32 nr_vcpus;
	struct kvmw_reason_stat *reasons;
	__u32 nr_reasons;
	/* Zero unless the module has KVMW_FEAT_MEM_NUMA. */
	struct kvmw_vm_mem mem;
};

/* How many times a call is retried when the kernel keeps growing. */
#define KVMW_DEV_MAX_TRIES	16

/*
 * Opens @path and does the handshake. Returns 0 or -errno; in particular
 * -EPROTONOSUPPORT when the module speaks another API version (dev->hs
 * then holds its answer) and -ENOTTY when @path is not a kvmwarden device.
 * On error nothing is left open. @ops may be NULL for the system calls.
 */
int kvmw_dev_open(struct kvmw_dev *dev, const char *path,
		  const struct kvmw_dev_ops *ops);
/* The same, opened for writing (control ioctls) when @write. */
int kvmw_dev_open_rw(struct kvmw_dev *dev, const char *path,
		     const struct kvmw_dev_ops *ops, bool write);
void kvmw_dev_close(struct kvmw_dev *dev);

/* Refreshes dev->hs. Returns 0 or -errno. */
int kvmw_dev_handshake(struct kvmw_dev *dev);

/*
 * Reads every tracked VM into a new array (*vms, free() it; NULL when
 * *nr is 0). Returns 0 or -errno (-EAGAIN if the list kept growing).
 */
int kvmw_dev_list_vms(struct kvmw_dev *dev, struct kvmw_vm_info **vms,
		      size_t *nr);

/*
 * Reads one VM with its vCPUs and (vCPU, reason) counts into @snap (free
 * with kvmw_vm_snap_free()). Returns 0 or -errno: -ENOENT when the VM is no
 * longer tracked, -EPROTO when the answer breaks the UAPI's rules.
 */
int kvmw_dev_vm_snapshot(struct kvmw_dev *dev, __u64 vm_id,
			 struct kvmw_vm_snap *snap);

/*
 * Reads every tracked VM with KVMW_IOC_SNAPSHOT_ALL (one call, one
 * consistent pass; retried with headroom on E2BIG) into a new array of
 * snapshots (*vms, in the module's order; free each with
 * kvmw_vm_snap_free() and the array with free(); NULL when *nr is 0).
 * Returns 0 or -errno: -EPROTO when the answer breaks the UAPI's rules,
 * -EAGAIN when it kept growing.
 */
int kvmw_dev_snapshot_all(struct kvmw_dev *dev, struct kvmw_vm_snap **vms,
			  size_t *nr);

/*
 * Reads event records into @buf (see struct kvmw_event). Returns the
 * bytes read or -errno (-EINTR is passed up: the caller decides).
 */
ssize_t kvmw_dev_read(struct kvmw_dev *dev, void *buf, size_t len);
/* Waits for an event, as kvmw_dev_ops::poll. */
int kvmw_dev_poll(struct kvmw_dev *dev, int timeout_ms, const sigset_t *mask);

/* Checks the cross references of a snapshot. Returns 0 or -EPROTO. */
int kvmw_vm_snap_check(const struct kvmw_vm_snap *snap);

void kvmw_vm_snap_free(struct kvmw_vm_snap *snap);

/* A sample: the handshake and the raw snapshots of some VMs. */
struct kvmw_sample {
	struct kvmw_handshake hs;
	/* CLOCK_BOOTTIME (ns) when the sample was started. */
	__u64 t_ns;
	/* Sorted by vm_id. */
	struct kvmw_vm_snap *vms;
	size_t nr_vms;
};

/*
 * Takes a sample of every tracked VM, or only of the VMs in @ids when
 * @nr_ids is not 0. With KVMW_FEAT_SNAPSHOT_ALL that is one
 * KVMW_IOC_SNAPSHOT_ALL call; otherwise KVMW_IOC_LIST_VMS and a
 * KVMW_IOC_VM_SNAPSHOT per VM, where a VM that disappears between the
 * list and its snapshot is left out. The sample is the same either way.
 * Returns 0 or -errno.
 */
int kvmw_sample_take(struct kvmw_dev *dev, const __u64 *ids, size_t nr_ids,
		     struct kvmw_sample *s);
void kvmw_sample_free(struct kvmw_sample *s);

/* The module's statistics, as KVMW_IOC_STATS_DESC describes them. */
struct kvmw_dev_layout {
	struct kvmw_stat_desc *descs;
	__u32 nr_descs;
	__u32 nr_nodes;
	/* Values in a record of each scope, indexed by KVMW_SCOPE_*. */
	__u32 values[KVMW_SCOPE_REASON + 1];
};

/*
 * Reads the descriptors (names NUL-terminated here whatever came) into
 * @l (free with kvmw_dev_layout_free()). Returns 0 or -errno: -EPROTO
 * when a record would not fit an ioctl argument.
 */
int kvmw_dev_stats_desc(struct kvmw_dev *dev, struct kvmw_dev_layout *l);
void kvmw_dev_layout_free(struct kvmw_dev_layout *l);

/*
 * A KVMW_IOC_STATS_READ answer: the records of each scope, of the sizes
 * asked for (header plus the layout's values), cross references checked.
 */
struct kvmw_stats_answer {
	unsigned char *vms, *vcpus, *reasons;
	__u32 nr_vms, nr_vcpus, nr_reasons;
	size_t vm_size, vcpu_size, reason_size;
	/* CLOCK_BOOTTIME of the read. */
	__u64 time_ns;
};

/*
 * Reads VM @vm_id, or every VM for 0, with KVMW_IOC_STATS_READ (retried
 * with headroom on E2BIG) into @a (free with kvmw_stats_answer_free()).
 * Returns 0 or -errno: -ENOENT for an unknown VM, -EPROTO when the
 * answer's indices do not hold together, -EAGAIN when it kept growing.
 */
int kvmw_dev_stats_read(struct kvmw_dev *dev, const struct kvmw_dev_layout *l,
			__u64 vm_id, struct kvmw_stats_answer *a);
void kvmw_stats_answer_free(struct kvmw_stats_answer *a);

/* Sorts VM summaries by vm_id. */
void kvmw_sort_vm_infos(struct kvmw_vm_info *vms, size_t nr);

struct kvmw_snapshot;
struct kvmw_source;

/*
 * The model of a sample, derived (kvmw_snapshot_derive()): what the
 * device source gives for it. Returns 0 or -errno.
 */
int kvmw_dev_sample_model(const struct kvmw_sample *s,
			  struct kvmw_snapshot *snap);

/*
 * Whether the device source @src (open) reads its snapshots through the
 * self-describing statistics (KVMW_IOC_STATS_READ): with
 * KVMW_FEAT_STATS when every exit count is described. False when it
 * serves them with the snapshot ioctls of API 1.
 */
bool kvmw_source_dev_stats(const struct kvmw_source *src);

struct kvmw_ev;

/*
 * Decodes the event record at @buf, of which @len bytes were read.
 * Records are as long as their size says, at least KVMW_EVENT_SIZE_VER0:
 * a longer one (a newer module appended fields) is read for the fields
 * known here, the rest skipped. Fills the model's *@ev; a record of
 * another version has an unknown layout: ev->known is false, only
 * ev->version is set and the record is to be skipped. Returns the bytes
 * the record takes, or -EPROTO when no whole, well-formed record starts
 * at @buf (truncated, size below VER0 or beyond @len).
 */
ssize_t kvmw_dev_event_decode(const void *buf, size_t len,
			      struct kvmw_ev *ev);

#endif /* KVMW_DEV_H */
