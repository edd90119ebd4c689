// SPDX-License-Identifier: GPL-2.0-only
/*
 * Naming VMs: the module's id, the VMM's pid, or the name and uuid the
 * VMM was started with (QEMU's -name and -uuid, from /proc/PID/cmdline).
 * The rules are in libkvmwarden.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "libkvmwarden.h"

/* Longest name compared when resolving (stored names are shorter). */
#define NAME_MATCH_MAX	256
/* Longest command line read; QEMU's are far shorter. */
#define CMDLINE_MAX	(256 * 1024)

static int parse_u64(const char *s, int base, __u64 *v)
{
	const char *digits = base == 16 ? "0123456789abcdefABCDEF" :
			     "0123456789";
	unsigned long long n;
	char *end;

	if (!*s || strspn(s, digits) != strlen(s) || strlen(s) > 20)
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, base);
	if (errno || *end)
		return -EINVAL;
	*v = n;
	return 0;
}

/* A VM id: decimal, or hexadecimal with 0x; never 0. */
static int parse_id(const char *s, __u64 *id)
{
	int ret;

	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
		ret = parse_u64(s + 2, 16, id);
	else
		ret = parse_u64(s, 10, id);
	return ret || !*id ? -EINVAL : 0;
}

int kvmw_vm_ref_parse(const char *s, struct kvmw_vm_ref *ref)
{
	__u64 v;

	memset(ref, 0, sizeof(*ref));
	if (!strncmp(s, "id:", 3)) {
		ref->kind = KVMW_REF_ID;
		return parse_id(s + 3, &ref->id);
	}
	if (!strncmp(s, "pid:", 4)) {
		ref->kind = KVMW_REF_PID;
		if (parse_u64(s + 4, 10, &v) || !v || v > 0x7fffffff)
			return -EINVAL;
		ref->pid = (__u32)v;
		return 0;
	}
	if (!strncmp(s, "name:", 5) || !strncmp(s, "uuid:", 5)) {
		ref->kind = s[0] == 'n' ? KVMW_REF_NAME : KVMW_REF_UUID;
		ref->name = s + 5;
		return *ref->name ? 0 : -EINVAL;
	}
	/* Anything made of digits (or 0x...) is an id, valid or not. */
	if (s[0] >= '0' && s[0] <= '9') {
		ref->kind = KVMW_REF_ID;
		return parse_id(s, &ref->id);
	}
	if (!*s)
		return -EINVAL;
	ref->kind = KVMW_REF_NAME;
	ref->name = s;
	return 0;
}

/*
 * The guest name of QEMU's -name argument @arg: "NAME" or
 * "guest=NAME,process=...", where ",," stands for a comma.
 */
static void name_of_arg(const char *arg, char *name, size_t len)
{
	const char *p = arg;
	bool first = true;

	while (*p) {
		char item[NAME_MATCH_MAX];
		size_t n = 0;

		/* One option, ",," unescaped. */
		while (*p && !(*p == ',' && p[1] != ',')) {
			if (*p == ',')
				p++;
			if (n < sizeof(item) - 1)
				item[n++] = *p;
			p++;
		}
		item[n] = '\0';
		if (*p == ',')
			p++;
		if (!strncmp(item, "guest=", 6))
			snprintf(name, len, "%s", item + 6);
		else if (first && !strchr(item, '='))
			snprintf(name, len, "%s", item);
		first = false;
	}
}

int kvmw_vmm_ident(const char *proc, __u32 pid, char *name, size_t name_len,
		   char *uuid, size_t uuid_len)
{
	char path[64], *buf;
	size_t len = 0, i;
	ssize_t n;
	int fd;

	if (name_len)
		name[0] = '\0';
	if (uuid_len)
		uuid[0] = '\0';
	snprintf(path, sizeof(path), "%s/%u/cmdline", proc ? proc : "/proc",
		 pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(CMDLINE_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < CMDLINE_MAX &&
	       (n = read(fd, buf + len, CMDLINE_MAX - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	/* Arguments are NUL-separated; the last one may lack its NUL. */
	for (i = 0; i < len; i += strlen(buf + i) + 1) {
		const char *arg = buf + i;
		const char *val;

		if (arg[0] != '-')
			continue;
		if (arg[1] == '-')
			arg++;
		if (strcmp(arg, "-name") && strcmp(arg, "-uuid"))
			continue;
		if (i + strlen(buf + i) + 1 >= len)
			break;
		val = buf + i + strlen(buf + i) + 1;
		if (!strcmp(arg, "-name") && name_len)
			name_of_arg(val, name, name_len);
		else if (!strcmp(arg, "-uuid") && uuid_len)
			snprintf(uuid, uuid_len, "%s", val);
		i += strlen(buf + i) + 1;
	}
	free(buf);
	return 0;
}

void kvmw_snapshot_names(struct kvmw_snapshot *snap, const char *proc)
{
	size_t i;

	for (i = 0; i < snap->nr_vms; i++) {
		struct kvmw_vm *vm = &snap->vms[i];

		vm->name[0] = '\0';
		if (!vm->gone)
			kvmw_vmm_ident(proc, vm->pid, vm->name,
				       sizeof(vm->name), NULL, 0);
	}
}

size_t kvmw_vm_resolve(const struct kvmw_snapshot *snap, const char *proc,
		       const struct kvmw_vm_ref *ref,
		       const struct kvmw_vm **out, size_t max)
{
	char name[NAME_MATCH_MAX], uuid[64];
	size_t i, nr = 0;

	for (i = 0; i < snap->nr_vms; i++) {
		const struct kvmw_vm *vm = &snap->vms[i];
		bool match = false;

		switch (ref->kind) {
		case KVMW_REF_ID:
			match = vm->vm_id == ref->id;
			break;
		case KVMW_REF_PID:
			match = !vm->gone && vm->pid == ref->pid;
			break;
		case KVMW_REF_NAME:
		case KVMW_REF_UUID:
			if (vm->gone || kvmw_vmm_ident(proc, vm->pid, name,
						       sizeof(name), uuid,
						       sizeof(uuid)))
				break;
			if (ref->kind == KVMW_REF_NAME)
				match = !strcmp(name, ref->name);
			else
				match = *uuid && !strcasecmp(uuid, ref->name);
			break;
		}
		if (!match)
			continue;
		if (nr < max)
			out[nr] = vm;
		nr++;
	}
	return nr;
}
