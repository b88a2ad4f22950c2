/* One-call-per-burst wrappers for DPDK functions that are static inline or macros, so Rust can call them. */
#ifndef REFRAMER_DPDK_SHIM_H
#define REFRAMER_DPDK_SHIM_H
#include <stdint.h>
#include <rte_mbuf.h>

uint16_t shim_rte_eth_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
uint16_t shim_rte_eth_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
int shim_rte_pktmbuf_alloc_bulk(struct rte_mempool *pool, struct rte_mbuf **mbufs, unsigned n);
void shim_rte_pktmbuf_free(struct rte_mbuf *m);
void shim_rte_pktmbuf_free_bulk(struct rte_mbuf **mbufs, unsigned n);
/* Data pointer and length of a single-segment mbuf. */
void *shim_rte_pktmbuf_data(struct rte_mbuf *m);
uint32_t shim_rte_pktmbuf_pkt_len(const struct rte_mbuf *m);
uint16_t shim_rte_pktmbuf_nb_segs(const struct rte_mbuf *m);
/* Copies `len` bytes into a freshly reset mbuf; returns 0, or -1 if it does not fit. */
int shim_rte_pktmbuf_fill(struct rte_mbuf *m, const void *src, uint16_t len);
int shim_rte_errno(void);
uint16_t shim_rte_mbuf_default_buf_size(void);
#endif
