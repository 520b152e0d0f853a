// The stderr texts below are what tcpdump 4.99.3 / libpcap 1.10.3 print on Debian 12 for each case.
import { describe, expect, it } from 'vitest';
import { classifyCaptureFailure } from '../../../src/capture/live/errors.js';
import { ErrorCode } from '../../../src/errors.js';

describe('classifyCaptureFailure', () => {
  it('missing interface', () => {
    const e = classifyCaptureFailure('tcpdump', 'nosuch0', undefined, 'tcpdump: nosuch0: No such device exists\n(No such device exists)');
    expect(e.reason).toBe('no-such-interface');
    expect(e.code).toBe(ErrorCode.Capture);
    expect(e.message).toBe("cannot capture on 'nosuch0': no such interface (list them with: portsniff interfaces)");
  });

  it('no permission: says how (root or setcap on tcpdump)', () => {
    const e = classifyCaptureFailure(
      'tcpdump',
      'lo',
      undefined,
      "tcpdump: lo: You don't have permission to perform this capture on that device\n(socket: Operation not permitted)",
    );
    expect(e.reason).toBe('permission');
    expect(e.message).toBe(
      "cannot capture on 'lo': permission denied (You don't have permission to perform this capture on that device (socket: Operation not permitted)); " +
        'run portsniff as root, or allow tcpdump to capture without root: setcap cap_net_raw,cap_net_admin=eip $(command -v tcpdump)',
    );
  });

  it('no permission with cap: the Node process itself needs it', () => {
    const e = classifyCaptureFailure('cap', 'eth0', undefined, "You don't have permission to capture on that device (socket: Operation not permitted)");
    expect(e.reason).toBe('permission');
    expect(e.message).toMatch(/run portsniff as root, or use --backend tcpdump/);
  });

  it.each([
    ['port foo and', "tcpdump: unknown port 'foo'", "unknown port 'foo'"],
    ['tcp port 99999', 'tcpdump: illegal port number 99999 > 65535', 'illegal port number 99999 > 65535'],
    ['tcp[', "tcpdump: can't parse filter expression: syntax error", "can't parse filter expression: syntax error"],
  ])('invalid filter %j shows libpcap\'s message', (filter, stderr, said) => {
    const e = classifyCaptureFailure('tcpdump', 'lo', filter, stderr);
    expect(e.reason).toBe('bad-filter');
    expect(e.message).toBe(`invalid capture filter '${filter}': ${said}`);
  });

  it('ignores the listening and statistics lines around the real message', () => {
    const e = classifyCaptureFailure(
      'tcpdump',
      'eth0',
      undefined,
      'tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\ntcpdump: pcap_loop: The interface disappeared\n5 packets captured\n5 packets received by filter\n0 packets dropped by kernel',
    );
    expect(e.reason).toBe('backend-failed');
    expect(e.message).toBe("capture on 'eth0' failed (tcpdump): pcap_loop: The interface disappeared");
  });

  it('a failure without words still gives one line', () => {
    expect(classifyCaptureFailure('tcpdump', 'lo', 'tcp', '').message).toBe("capture on 'lo' failed (tcpdump): it stopped without saying why");
  });
});
