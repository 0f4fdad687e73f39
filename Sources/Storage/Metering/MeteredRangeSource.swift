/// A `RangeSource` whose every read is counted by a `RequestMeter`; for sources that read from
/// nothing but their object (a local image file), so that each read is one request.
public struct MeteredRangeSource: RangeSource {
    public let base: any RangeSource
    public let meter: RequestMeter

    public init(_ base: any RangeSource, meter: RequestMeter) {
        self.base = base
        self.meter = meter
    }

    public var size: UInt64 { base.size }
    public var displayName: String { base.displayName }
    public var version: String? { base.version }

    public func read(_ range: ByteRange) throws -> [UInt8] {
        try meter.measure({ try base.read(range) }, received: \.count)
    }

    public func read(ranges: [ByteRange]) throws -> [[UInt8]] {
        try ParallelWork.map(count: ranges.count, width: 16) { index in try read(ranges[index]) }
    }
}
