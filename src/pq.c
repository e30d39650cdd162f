#include "config.h"

#include <dlfcn.h>
#include <stdio.h>

#include "pq.h"

struct pq_api pq;

int
pq_load(char *err, size_t errlen)
{
	struct pq_api p;
	void *h;

	if (pq.PQstatus != NULL)
		return 0;
	/* never closed: its functions are used until the program ends */
	if ((h = dlopen(PQ_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "PostgreSQL: cannot load %s: %s",
		    PQ_SONAME, dlerror());
		return -1;
	}
#define X(f) \
	if ((*(void **)&p.f = dlsym(h, #f)) == NULL) { \
		snprintf(err, errlen, "PostgreSQL: %s has no %s", PQ_SONAME, \
		    #f); \
		return -1; \
	}
	PQ_FUNCS
#undef X
	pq = p;
	return 0;
}
