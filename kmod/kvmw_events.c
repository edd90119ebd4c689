// SPDX-License-Identifier: GPL-2.0
/*
 * kvmwarden: the read()/poll() event stream of /dev/kvmwarden.
 *
 * One ring of the last KVMW_EVENT_RING records, shared by all readers.
 * Producers (VM and vCPU discovery in probe context, the sweep in process
 * context) take the ring's spinlock with interrupts off for the time of a
 * copy and never wait for a reader; readers are woken through irq_work so
 * that no producer takes a wait-queue lock under its own locks. Each open
 * file keeps its own position (a sequence number); one that falls more
 * than the ring behind skips the overwritten records and is told how many
 * in the next record's lost field.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/irq_work.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "kvmw.h"

static_assert(sizeof(struct kvmw_event) == KVMW_EVENT_SIZE_VER0);
static_assert((KVMW_EVENT_RING & (KVMW_EVENT_RING - 1)) == 0);

/* Records copied per read() call at most (bounds the bounce buffer). */
#define KVMW_EVENT_READ_MAX	32

static struct kvmw_event *kvmw_ring;
/* Sequence number of the next record; records [head - RING, head) exist. */
static u64 kvmw_ring_head = 1;
static DEFINE_SPINLOCK(kvmw_ring_lock);
static DECLARE_WAIT_QUEUE_HEAD(kvmw_ring_wait);
static struct irq_work kvmw_ring_iw;

struct kvmw_reader {
	u64 next;	/* sequence number of the next record to read */
};

static void kvmw_ring_wake(struct irq_work *iw)
{
	wake_up_interruptible_all(&kvmw_ring_wait);
}

/**
 * kvmw_event_emit() - append an event to the stream
 * @e: the record; size, version, seq and time_ns are filled in here
 *
 * Any context but hard IRQ; never sleeps, never waits for a reader.
 */
void kvmw_event_emit(struct kvmw_event *e)
{
	unsigned long flags;

	if (!kvmw_ring)
		return;
	e->size = sizeof(*e);
	e->version = KVMW_EVENT_VERSION;
	e->time_ns = ktime_get_boottime_ns();
	e->lost = 0;
	spin_lock_irqsave(&kvmw_ring_lock, flags);
	e->seq = kvmw_ring_head;
	kvmw_ring[e->seq & (KVMW_EVENT_RING - 1)] = *e;
	WRITE_ONCE(kvmw_ring_head, kvmw_ring_head + 1);
	spin_unlock_irqrestore(&kvmw_ring_lock, flags);
	irq_work_queue(&kvmw_ring_iw);
}

int kvmw_events_open(struct file *file)
{
	struct kvmw_reader *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return -ENOMEM;
	r->next = READ_ONCE(kvmw_ring_head);
	file->private_data = r;
	return 0;
}

int kvmw_events_release(struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static bool kvmw_events_ready(const struct kvmw_reader *r)
{
	return READ_ONCE(kvmw_ring_head) != r->next;
}

ssize_t kvmw_events_read(struct file *file, char __user *buf, size_t count)
{
	struct kvmw_reader *r = file->private_data;
	struct kvmw_event *out;
	size_t n = 0, max;
	u64 oldest, start = 0, lost = 0;
	ssize_t ret;

	if (count < sizeof(*out))
		return -EINVAL;
	max = min_t(size_t, count / sizeof(*out), KVMW_EVENT_READ_MAX);
	out = kmalloc_array(max, sizeof(*out), GFP_KERNEL);
	if (!out)
		return -ENOMEM;

	/* Another thread reading the same file may take what we waited for. */
	while (!n) {
		if (!kvmw_events_ready(r)) {
			ret = -EAGAIN;
			if (file->f_flags & O_NONBLOCK)
				goto out;
			ret = wait_event_interruptible(kvmw_ring_wait,
						       kvmw_events_ready(r));
			if (ret)
				goto out;
		}
		spin_lock_irq(&kvmw_ring_lock);
		start = r->next;
		oldest = kvmw_ring_head > KVMW_EVENT_RING ?
			 kvmw_ring_head - KVMW_EVENT_RING : 1;
		if (r->next < oldest) {
			lost = oldest - r->next;
			r->next = oldest;
		}
		while (n < max && r->next != kvmw_ring_head) {
			out[n] = kvmw_ring[r->next & (KVMW_EVENT_RING - 1)];
			r->next++;
			n++;
		}
		spin_unlock_irq(&kvmw_ring_lock);
	}
	out[0].lost = lost;

	ret = copy_to_user(buf, out, n * sizeof(*out)) ? -EFAULT : 0;
	if (ret) {
		/* Nothing was read: the records stay for the next read(). */
		spin_lock_irq(&kvmw_ring_lock);
		if (r->next == start + lost + n)
			r->next = start;
		spin_unlock_irq(&kvmw_ring_lock);
	}
out:
	kfree(out);
	return ret ?: n * sizeof(*out);
}

__poll_t kvmw_events_poll(struct file *file, struct poll_table_struct *pt)
{
	struct kvmw_reader *r = file->private_data;

	poll_wait(file, &kvmw_ring_wait, pt);
	return kvmw_events_ready(r) ? EPOLLIN | EPOLLRDNORM : 0;
}

int kvmw_events_init(void)
{
	init_irq_work(&kvmw_ring_iw, kvmw_ring_wake);
	kvmw_ring = vzalloc(array_size(KVMW_EVENT_RING, sizeof(*kvmw_ring)));
	return kvmw_ring ? 0 : -ENOMEM;
}

/* After the probes are drained and the device is gone: no producer left. */
void kvmw_events_exit(void)
{
	irq_work_sync(&kvmw_ring_iw);
	vfree(kvmw_ring);
	kvmw_ring = NULL;
}
