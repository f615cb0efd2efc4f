/* The process every spawn comparison starts: does nothing, exits 0. Linked statically so that
 * no dynamic loader work is measured. */
int main(void) { return 0; }
