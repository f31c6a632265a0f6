/* SPDX-License-Identifier: MIT */
#include "tests/kmod/sim_hosts.h"

#include <string.h>

static void host_base(unsigned major, unsigned minor, unsigned max_adapter, unsigned max_domain,
		      struct sim_config *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->kernel_major = major;
	ret->kernel_minor = minor;
	ret->max_adapter = max_adapter;
	ret->max_domain = max_domain;
	ret->apmask = idset_range(0, 255);
	ret->aqmask = idset_range(0, 255);
	ret->vfio_ap_loaded = true;
}

static void add_card(struct sim_config *cfg, unsigned id, unsigned gen, char mode)
{
	cfg->cards[cfg->n_cards++] = (struct sim_card_config){
		.id = id, .gen = gen, .mode = mode, .config = true, .online = true
	};
}

void sim_host_seed(unsigned major, unsigned minor, struct sim_config *ret)
{
	static const unsigned domains[] = { 0x04, 0x47, 0xab, 0xff };

	host_base(major, minor, 63, 255, ret);
	add_card(ret, 0x05, 5, 'C');
	add_card(ret, 0x06, 5, 'A');
	for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		idset_add(&ret->usage_domains, domains[i]);
		idset_add(&ret->control_domains, domains[i]);
	}
}

void sim_host_large(unsigned major, unsigned minor, struct sim_config *ret)
{
	host_base(major, minor, 255, 84, ret);
	for (unsigned id = 0; id < 256; id++)
		add_card(ret, id, id < 192 && id >= 128 ? 7 : 8,
			 id < 128   ? 'C'
			 : id < 192 ? 'P'
				    : 'A');
	ret->usage_domains = idset_range(0, 84);
	ret->control_domains = idset_range(0, 84);
}
