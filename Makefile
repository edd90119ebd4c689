# SPDX-License-Identifier: GPL-2.0
#
# kvmwarden top-level Makefile.
#
#   make                 module for the running kernel + BPF + CLI + selftests
#   make KDIR=<dir>      module for the kernel whose headers are in <dir>
#                        (feature probes decide whether it can be built:
#                        Documentation/build.rst)
#   make module|bpf|userspace|selftests
#   make check           unit tests, checkpatch, kernel tests in QEMU (6.1, 6.12)
#                        and on Intel VMX under Bochs (6.1, a subset)
#   make check-vmx       all kernel tests on Intel VMX under Bochs (6.1, 6.12)
#   make check-debug     kernel tests on a debug kernel (KASAN, lockdep, ...)
#   make demo            boot the test VM, run sample guests, show kvmwarden stat
#   make bench           per-exit cost in instructions (QEMU -icount), 6.1 and 6.12
#   make install         module (modules_install), CLI, UAPI header, udev rule
#   make dkms-install    register the module source with DKMS
#   make checkpatch      checkpatch.pl --strict on the kernel-side sources
#   V=1                  show commands
#
# Userspace objects go to $(BUILD) (default ./build); kbuild writes the
# module's objects next to its sources in kmod/.

KDIR ?= /lib/modules/$(shell uname -r)/build
BUILD ?= $(CURDIR)/build
PREFIX ?= /usr/local
DESTDIR ?=
VERSION := $(shell cat $(CURDIR)/VERSION)

export BUILD V

.PHONY: all module userland bpf userspace selftests check check-vmx \
	check-debug demo bench clean \
	install install-module install-userspace dkms-install checkpatch help

all: module userland

userland: bpf userspace selftests

module:
	@if [ ! -d "$(KDIR)" ]; then \
		echo "module: no kernel headers at $(KDIR)"; \
		echo "module: install linux-headers-$$(uname -r) or pass KDIR=<headers dir>"; \
		exit 1; \
	fi
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

bpf:
	$(MAKE) -C bpf

userspace:
	$(MAKE) -C userspace

selftests: bpf
	$(MAKE) -C selftests

check:
	@bash scripts/check.sh

check-vmx:
	@bash scripts/check-vmx.sh

check-debug:
	@bash scripts/check-debug.sh

bench:
	@bash scripts/bench.sh

demo:
	@bash scripts/demo.sh

checkpatch:
	@bash scripts/checkpatch.sh

install: install-module install-userspace

install-module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(if $(KERNELRELEASE),$(KERNELRELEASE),$(shell uname -r))

install-userspace: userspace
	install -D -m 0755 $(BUILD)/userspace/kvmwarden $(DESTDIR)$(PREFIX)/sbin/kvmwarden
	install -D -m 0644 userspace/kvmwarden.8 $(DESTDIR)$(PREFIX)/share/man/man8/kvmwarden.8
	install -D -m 0644 include/uapi/linux/kvmwarden.h $(DESTDIR)$(PREFIX)/include/linux/kvmwarden.h
	install -D -m 0644 packaging/60-kvmwarden.rules $(DESTDIR)/etc/udev/rules.d/60-kvmwarden.rules

dkms-install:
	rm -rf $(DESTDIR)/usr/src/kvmwarden-$(VERSION)
	mkdir -p $(DESTDIR)/usr/src/kvmwarden-$(VERSION)
	cp -r Kbuild Makefile VERSION kmod include $(DESTDIR)/usr/src/kvmwarden-$(VERSION)/
	sed 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="$(VERSION)"/' dkms.conf \
		> $(DESTDIR)/usr/src/kvmwarden-$(VERSION)/dkms.conf
	dkms add -m kvmwarden -v $(VERSION)
	dkms install -m kvmwarden -v $(VERSION)

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod clean 2>/dev/null
	rm -f kmod/feature/*.res kmod/feature/*.log \
		kmod/feature/kvmw_features.h kmod/feature/kvmw_features.h.tmp
	$(MAKE) -C bpf clean
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
	rm -rf $(BUILD)

help:
	@sed -n '3,21p' Makefile | sed 's/^# \{0,1\}//'
