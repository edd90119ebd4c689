// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmwarden: per-VM, per-vCPU and per-reason KVM exit counts.
 */
#include <stdio.h>

#include "cli.h"

int main(int argc, char **argv)
{
	return kvmw_main(argc, argv, stdout, stderr, NULL);
}
