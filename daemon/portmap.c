/* tocsind: router port mapping (see portmap.h). */
#define _DEFAULT_SOURCE
#include "portmap.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <natpmp.h>

enum {
	URL_MAX = 512,
	ST_MAX = 128,
	IP_MAX = 46, /* INET6_ADDRSTRLEN */
};

typedef enum job_op { OP_MAP, OP_UNMAP } job_op;
typedef enum method { M_NONE = 0, M_UPNP, M_NATPMP } method;

/* Everything a worker reads or writes: nothing else is shared with it. */
typedef struct job {
	uv_work_t work;
	td_portmap *owner; /* NULL once td_portmap_del ran: the job frees itself */
	job_op op;
	td_portmap_mode mode;
	uint16_t port;
	/* in (UNMAP) / out (MAP) */
	method how;
	char control_url[URL_MAX];
	char service[ST_MAX];
	uint16_t ext_port;
	/* out */
	bool ok;
	const char *reason; /* static string */
	int code;
	char ext_ip[IP_MAX];
	uint32_t lease_s;
	uint64_t took_ms;
} job;

struct td_portmap {
	uv_loop_t *loop;
	td_log *log;
	td_portmap_mode mode;
	uint16_t port;
	td_portmap_cb cb;
	void *ud;
	uv_timer_t timer;
	job *busy; /* the job in the pool, if any */
	bool stopping, retry_wanted;
	/* the live mapping */
	method how;
	char control_url[URL_MAX];
	char service[ST_MAX];
	uint16_t ext_port;
	char external[TD_ADDRSTR_MAX];
};

static const char *method_name(method m)
{
	return m == M_UPNP ? "upnp" : m == M_NATPMP ? "natpmp" : "";
}

const char *td_portmap_mode_name(td_portmap_mode mode)
{
	switch (mode) {
	case TD_PORTMAP_UPNP: return "upnp";
	case TD_PORTMAP_NATPMP: return "natpmp";
	case TD_PORTMAP_AUTO: return "auto";
	case TD_PORTMAP_OFF: break;
	}
	return "off";
}

const char *td_portmap_method(const td_portmap *p)
{
	return p ? method_name(p->how) : "";
}

/* ---- workers (thread pool: only the job) ------------------------------------------ */

/* An IPv4 address other than loopback: without one there is no LAN to
 * search (and miniupnpc would print sendto errors on stderr). */
static bool have_lan(void)
{
	uv_interface_address_t *ifs = NULL;
	int n = 0;
	bool any = false;
	if (uv_interface_addresses(&ifs, &n) != 0)
		return false;
	for (int i = 0; i < n && !any; i++)
		any = !ifs[i].is_internal && ifs[i].address.address4.sin_family == AF_INET;
	uv_free_interface_addresses(ifs, n);
	return any;
}

static bool upnp_map(job *j)
{
	int err = 0;
	if (!have_lan()) {
		j->reason = "no_gateway";
		return false;
	}
	/* One search type (an IGD:2 answers IGD:1 searches too): upnpDiscover
	 * would wait the delay once per type, four times. */
	static const char *const types[] = {"urn:schemas-upnp-org:device:InternetGatewayDevice:1",
	                                    NULL};
	struct UPNPDev *devs = upnpDiscoverDevices(types, TD_PORTMAP_UPNP_WAIT_MS, NULL, NULL,
	                                           UPNP_LOCAL_PORT_ANY, 0, 2, &err, 0);
	if (!devs) {
		j->reason = "no_gateway";
		j->code = err;
		return false;
	}
	struct UPNPUrls urls;
	struct IGDdatas data;
	char lan[IP_MAX] = "";
	memset(&urls, 0, sizeof urls);
	memset(&data, 0, sizeof data);
	int igd = UPNP_GetValidIGD(devs, &urls, &data, lan, sizeof lan);
	freeUPNPDevlist(devs);
	if (igd != 1) {
		if (igd)
			FreeUPNPUrls(&urls);
		j->reason = igd == 0 ? "no_gateway" : igd == 2 ? "gateway_not_connected" : "no_igd";
		return false;
	}
	char port[8], lease[16];
	snprintf(port, sizeof port, "%u", (unsigned)j->port);
	snprintf(lease, sizeof lease, "%u", (unsigned)TD_PORTMAP_LEASE_S);
	int rc = UPNP_AddPortMapping(urls.controlURL, data.first.servicetype, port, port, lan,
	                             "tocsin", "TCP", NULL, lease);
	j->lease_s = TD_PORTMAP_LEASE_S;
	if (rc == 725) { /* OnlyPermanentLeasesSupported */
		rc = UPNP_AddPortMapping(urls.controlURL, data.first.servicetype, port, port, lan,
		                         "tocsin", "TCP", NULL, "0");
		j->lease_s = 0;
	}
	if (rc != 0) {
		FreeUPNPUrls(&urls);
		j->reason = "refused";
		j->code = rc;
		return false;
	}
	if (UPNP_GetExternalIPAddress(urls.controlURL, data.first.servicetype, j->ext_ip) != 0)
		j->ext_ip[0] = '\0';
	snprintf(j->control_url, sizeof j->control_url, "%s", urls.controlURL);
	snprintf(j->service, sizeof j->service, "%s", data.first.servicetype);
	FreeUPNPUrls(&urls);
	j->ext_port = j->port;
	j->how = M_UPNP;
	return true;
}

/* One request, its answer within TD_PORTMAP_NATPMP_WAIT_MS (libnatpmp's own
 * retry schedule would run for a minute). */
static int natpmp_wait(natpmp_t *np, natpmpresp_t *resp)
{
	struct timeval start, now;
	gettimeofday(&start, NULL);
	for (;;) {
		struct timeval tv;
		if (getnatpmprequesttimeout(np, &tv) < 0)
			return NATPMP_ERR_NOPENDINGREQ;
		gettimeofday(&now, NULL);
		int64_t spent = (int64_t)(now.tv_sec - start.tv_sec) * 1000 +
		                (now.tv_usec - start.tv_usec) / 1000;
		int64_t left = TD_PORTMAP_NATPMP_WAIT_MS - spent;
		if (left <= 0)
			return NATPMP_TRYAGAIN;
		if (tv.tv_sec * 1000 + tv.tv_usec / 1000 > left) {
			tv.tv_sec = left / 1000;
			tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
		}
		fd_set fds;
		FD_ZERO(&fds);
		FD_SET(np->s, &fds);
		select(np->s + 1, &fds, NULL, NULL, &tv);
		int r = readnatpmpresponseorretry(np, resp);
		if (r != NATPMP_TRYAGAIN)
			return r;
	}
}

static bool natpmp_map(job *j, uint32_t lifetime)
{
	natpmp_t np;
	natpmpresp_t resp;
	int r = initnatpmp(&np, 0, 0);
	if (r < 0) {
		j->reason = r == NATPMP_ERR_CANNOTGETGATEWAY ? "no_gateway" : "natpmp_init";
		j->code = r;
		return false;
	}
	if (lifetime && sendpublicaddressrequest(&np) >= 0 && natpmp_wait(&np, &resp) == 0 &&
	    resp.type == NATPMP_RESPTYPE_PUBLICADDRESS)
		inet_ntop(AF_INET, &resp.pnu.publicaddress.addr, j->ext_ip, sizeof j->ext_ip);
	/* Removal: lifetime 0 and suggested external port 0 (RFC 6886 §3.4). */
	r = sendnewportmappingrequest(&np, NATPMP_PROTOCOL_TCP, j->port, lifetime ? j->port : 0,
	                              lifetime);
	if (r >= 0)
		r = natpmp_wait(&np, &resp);
	closenatpmp(&np);
	if (r != 0) {
		j->reason = r == NATPMP_TRYAGAIN ? "no_answer" : "refused";
		j->code = r;
		return false;
	}
	if (lifetime) {
		j->ext_port = resp.pnu.newportmapping.mappedpublicport;
		j->lease_s = resp.pnu.newportmapping.lifetime;
	}
	j->how = M_NATPMP;
	return true;
}

static void work(uv_work_t *w)
{
	job *j = w->data;
	uint64_t t0 = uv_hrtime();
	if (j->op == OP_UNMAP) {
		if (j->how == M_UPNP) {
			char port[8];
			snprintf(port, sizeof port, "%u", (unsigned)j->ext_port);
			int rc = UPNP_DeletePortMapping(j->control_url, j->service, port, "TCP",
			                                NULL);
			j->ok = rc == 0;
			j->code = rc;
		} else {
			j->ok = natpmp_map(j, 0);
		}
		if (!j->ok && !j->reason)
			j->reason = "refused";
	} else {
		j->ok = false;
		if (j->mode == TD_PORTMAP_UPNP || j->mode == TD_PORTMAP_AUTO)
			j->ok = upnp_map(j);
		if (!j->ok && (j->mode == TD_PORTMAP_NATPMP || j->mode == TD_PORTMAP_AUTO)) {
			const char *upnp_reason = j->reason;
			j->reason = NULL;
			j->ok = natpmp_map(j, TD_PORTMAP_LEASE_S);
			/* auto: "no gateway" only when neither found one */
			if (!j->ok && upnp_reason && strcmp(upnp_reason, "no_gateway") != 0 &&
			    strcmp(j->reason, "no_gateway") == 0)
				j->reason = upnp_reason;
		}
	}
	j->took_ms = (uv_hrtime() - t0) / 1000000u;
}

/* ---- the loop side ---------------------------------------------------------------- */

static void start_job(td_portmap *p, job_op op);

static void on_timer(uv_timer_t *t)
{
	td_portmap *p = t->data;
	start_job(p, OP_MAP);
}

static void arm(td_portmap *p, uint64_t secs)
{
	if (!p->stopping)
		uv_timer_start(&p->timer, on_timer, secs * 1000u, 0);
}

static void done(uv_work_t *w, int status)
{
	job *j = w->data;
	td_portmap *p = j->owner;
	if (!p) { /* td_portmap_del ran: nobody to tell */
		free(j);
		return;
	}
	p->busy = NULL;
	if (status == UV_ECANCELED) {
		free(j);
		return;
	}
	if (j->op == OP_UNMAP) {
		if (j->ok)
			td_info(p->log, "port_mapping_removed method=%s port=%u",
			        method_name(j->how), (unsigned)j->ext_port);
		else
			td_warn(p->log, "port_mapping_remove_failed method=%s reason=%s code=%d",
			        method_name(j->how), j->reason ? j->reason : "refused", j->code);
		free(j);
		return;
	}
	if (j->ok) {
		bool fresh = p->how == M_NONE;
		p->how = j->how;
		p->ext_port = j->ext_port;
		memcpy(p->control_url, j->control_url, sizeof p->control_url);
		memcpy(p->service, j->service, sizeof p->service);
		char ext[TD_ADDRSTR_MAX] = "";
		if (j->ext_ip[0])
			snprintf(ext, sizeof ext, "%s:%u", j->ext_ip, (unsigned)j->ext_port);
		/* Our public address is where we live: info says only that it
		 * worked; the address is at debug (like peers' addresses). */
		td_info(p->log,
		        "port_mapping_%s method=%s port=%u external_port=%u lease_s=%" PRIu32
		        " took_ms=%" PRIu64,
		        fresh ? "ok" : "renewed", method_name(j->how), (unsigned)p->port,
		        (unsigned)j->ext_port, j->lease_s, j->took_ms);
		td_debug(p->log, "port_mapping_external addr=%s", ext[0] ? ext : "unknown");
		if (ext[0] && strcmp(ext, p->external) != 0) {
			snprintf(p->external, sizeof p->external, "%s", ext);
			if (p->cb && !p->stopping)
				p->cb(p->ud, p->external);
		}
		uint64_t renew = j->lease_s ? j->lease_s / 2 : TD_PORTMAP_LEASE_S;
		arm(p, renew < 10 ? 10 : renew);
	} else {
		p->how = M_NONE;
		td_warn(p->log,
		        "port_mapping_failed mode=%s reason=%s code=%d took_ms=%" PRIu64
		        " retry_s=%u%s",
		        td_portmap_mode_name(p->mode), j->reason ? j->reason : "unknown", j->code,
		        j->took_ms, (unsigned)TD_PORTMAP_RETRY_S,
		        j->reason && strcmp(j->reason, "no_gateway") == 0
		                ? " hint=\"no gateway: the mesh works without a mapping, others "
		                  "cannot dial us from outside\""
		                : "");
		arm(p, TD_PORTMAP_RETRY_S);
	}
	free(j);
	if (p->stopping && p->how != M_NONE) {
		start_job(p, OP_UNMAP); /* mapped while we were stopping: undo it */
		p->how = M_NONE;
		return;
	}
	if (p->retry_wanted) {
		p->retry_wanted = false;
		start_job(p, OP_MAP);
	}
}

static void start_job(td_portmap *p, job_op op)
{
	if (p->busy) {
		if (op == OP_MAP)
			p->retry_wanted = true;
		return;
	}
	job *j = calloc(1, sizeof *j);
	if (!j) {
		td_err(p->log, "port_mapping_failed reason=nomem");
		return;
	}
	j->owner = p;
	j->op = op;
	j->mode = p->mode;
	j->port = p->port;
	j->how = p->how;
	j->ext_port = p->ext_port;
	memcpy(j->control_url, p->control_url, sizeof j->control_url);
	memcpy(j->service, p->service, sizeof j->service);
	j->work.data = j;
	if (uv_queue_work(p->loop, &j->work, work, done) != 0) {
		free(j);
		return;
	}
	if (op == OP_MAP) {
		uv_timer_stop(&p->timer);
		td_info(p->log, "port_mapping_start mode=%s port=%u", td_portmap_mode_name(p->mode),
		        (unsigned)p->port);
	}
	p->busy = j;
}

td_portmap *td_portmap_new(uv_loop_t *loop, td_log *log, td_portmap_mode mode, uint16_t port,
                           td_portmap_cb cb, void *ud)
{
	if (mode == TD_PORTMAP_OFF)
		return NULL;
	td_portmap *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->loop = loop;
	p->log = log;
	p->mode = mode;
	p->port = port;
	p->cb = cb;
	p->ud = ud;
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	start_job(p, OP_MAP);
	return p;
}

void td_portmap_retry(td_portmap *p)
{
	if (p && !p->stopping)
		start_job(p, OP_MAP);
}

void td_portmap_stop(td_portmap *p)
{
	if (!p || p->stopping)
		return;
	p->retry_wanted = false;
	if (p->busy)
		uv_cancel((uv_req_t *)&p->busy->work); /* a running one finishes (bounded) */
	else if (p->how != M_NONE)
		start_job(p, OP_UNMAP);
	p->stopping = true;
	uv_close((uv_handle_t *)&p->timer, NULL);
}

void td_portmap_del(td_portmap *p)
{
	if (!p)
		return;
	if (p->busy)
		p->busy->owner = NULL;
	free(p);
}
