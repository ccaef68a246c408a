import Foundation
import FuzzTargets

#if FUZZING
import CFuzzer
#endif

/// `calor-fuzz TARGET FILE…` replays inputs (a finding's file, to debug it). Built by Scripts/fuzz with
/// `-sanitize=fuzzer,address -DFUZZING`, it is libFuzzer instead, fuzzing the target `CALOR_FUZZ_TARGET` names.
@main
struct CalorFuzz {
    static func main() throws {
        #if FUZZING
        guard let target = FuzzTarget(rawValue: ProcessInfo.processInfo.environment["CALOR_FUZZ_TARGET"] ?? "") else {
            fatalError("CALOR_FUZZ_TARGET must name a target: \(FuzzTarget.allCases.map(\.rawValue))")
        }
        Fuzzing.target = target
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(
            LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                Fuzzing.target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
                return 0
            }
        )
        #else
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: calor-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE…")
            exit(2)
        }
        for path in arguments.dropFirst() {
            target.run(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        print("\(arguments.count - 1) inputs read without a finding")
        #endif
    }
}

#if FUZZING
/// The target, set once before libFuzzer starts calling back (from one thread).
enum Fuzzing {
    nonisolated(unsafe) static var target = FuzzTarget.json
}

/// libFuzzer's entry point (its runtime refers to it by name).
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzzing.target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#endif
