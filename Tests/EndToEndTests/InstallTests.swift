import Foundation
import TestSupport
import Testing

@Suite("make install, systemd units, completions and man pages")
struct InstallTests {
    /// Every file `make install` lays out under the default PREFIX, relative to DESTDIR.
    static let installedFiles = [
        "usr/local/bin/sqbackup", "sbin/mount.fuse.sqbackup",
        "usr/local/lib/systemd/system/sqbackup-prune.service", "usr/local/lib/systemd/system/sqbackup-prune.timer",
        "usr/local/lib/systemd/system/sqbackup-mount@.service",
        "usr/local/share/doc/sqbackup/examples/srv-snap.mount",
        "usr/local/share/doc/sqbackup/examples/srv-snap.automount",
        "usr/local/share/bash-completion/completions/sqbackup", "usr/local/share/zsh/site-functions/_sqbackup",
        "usr/local/share/fish/vendor_completions.d/sqbackup.fish", "usr/local/share/man/man1/sqbackup.1",
        "usr/local/share/man/man1/sqbackup.mount.1", "usr/local/share/man/man1/sqbackup.restore.1",
    ]

    static let subcommands = ["create", "list", "show", "delete", "prune", "mount", "unmount", "restore", "verify"]

    @Test("make install DESTDIR=… PREFIX=/usr/local lays out every file; make uninstall removes them")
    func installAndUninstall() throws {
        let destdir = try TemporaryDirectory("make-install")
        defer { destdir.remove() }
        let installed = try InstalledSqbackup.make(["install", "DESTDIR=\(destdir.path)", "PREFIX=/usr/local"])
        #expect(installed.succeeded, "\(installed.stderr)")
        for file in Self.installedFiles {
            #expect(FileManager.default.fileExists(atPath: destdir.child(file)), "not installed: \(file)")
        }
        for file in ["usr/local/bin/sqbackup", "sbin/mount.fuse.sqbackup"] {
            #expect(FileManager.default.isExecutableFile(atPath: destdir.child(file)), "not executable: \(file)")
        }
        // Installed files name the binary where it will be, without DESTDIR.
        let helper = try String(contentsOfFile: destdir.child("sbin/mount.fuse.sqbackup"), encoding: .utf8)
        #expect(helper.contains("\nsqbackup=/usr/local/bin/sqbackup "))
        let unit = try String(
            contentsOfFile: destdir.child("usr/local/lib/systemd/system/sqbackup-prune.service"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/local/bin/sqbackup prune"))

        let uninstalled = try InstalledSqbackup.make(["uninstall", "DESTDIR=\(destdir.path)", "PREFIX=/usr/local"])
        #expect(uninstalled.succeeded, "\(uninstalled.stderr)")
        let left = (try FileManager.default.subpathsOfDirectory(atPath: destdir.path)).filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: destdir.child($0), isDirectory: &isDirectory)
                && !isDirectory.boolValue
        }
        #expect(left.isEmpty, "left after uninstall: \(left)")
    }

    @Test("completions for bash, zsh and fish and the man pages name the subcommands; the man page lists exit statuses")
    func completionsAndManual() throws {
        let destdir = try TemporaryDirectory("make-install-docs")
        defer { destdir.remove() }
        let installed = try InstalledSqbackup.make(["install", "DESTDIR=\(destdir.path)"])
        #expect(installed.succeeded, "\(installed.stderr)")
        let share = destdir.child("usr/local/share")
        for completion in [
            "bash-completion/completions/sqbackup", "zsh/site-functions/_sqbackup",
            "fish/vendor_completions.d/sqbackup.fish",
        ] {
            let text = (try? String(contentsOfFile: "\(share)/\(completion)", encoding: .utf8)) ?? ""
            for subcommand in Self.subcommands {
                #expect(text.contains(subcommand), "\(completion) does not mention \(subcommand)")
            }
            #expect(text.contains("mount-options"), "\(completion) lacks mount's --mount-options")
        }
        let manual = try String(contentsOfFile: "\(share)/man/man1/sqbackup.1", encoding: .utf8)
        for subcommand in Self.subcommands { #expect(manual.contains("sqbackup.\(subcommand)")) }
        for status in ["0    done", "1    failed", "3    partial restore", "64   usage", "130  interrupted"] {
            #expect(manual.contains(status), "man page lacks exit status \(status)")
        }
        let mountPage = try String(contentsOfFile: "\(share)/man/man1/sqbackup.mount.1", encoding: .utf8)
        #expect(mountPage.contains("mount-options") && mountPage.contains("credentials"))
        // The man page renders (man(1) reads it without complaint).
        let rendered = try Shell.run(["man", "-l", "\(share)/man/man1/sqbackup.1"], environment: ["MANWIDTH": "100"])
        #expect(rendered.succeeded && rendered.stdout.contains("130"), "\(rendered.stderr)")
    }

    @Test("every unit in mount-helpers/systemd passes systemd-analyze verify as installed")
    func unitsVerify() throws {
        guard Shell.has("systemd-analyze") else {
            Issue.record("systemd-analyze is missing: scripts/install-deps.sh --test installs systemd")
            return
        }
        let work = try TemporaryDirectory(InstalledSqbackup.testPrefixLabel)
        defer { work.remove() }
        let prefix = work.child("prefix")
        // Installed into a real prefix (no DESTDIR), so ExecStart= names a binary that exists, as
        // verify requires, and Documentation=man:sqbackup(1) resolves through MANPATH.
        try InstalledSqbackup.install(prefix: prefix)
        let units = try FileManager.default.contentsOfDirectory(
            atPath: InstalledSqbackup.repositoryRoot + "/mount-helpers/systemd")
        #expect(units.count >= 5)
        for unit in units {
            let installed = ["\(prefix)/lib/systemd/system", "\(prefix)/share/doc/sqbackup/examples"]
                .map { "\($0)/\(unit)" }.first { FileManager.default.fileExists(atPath: $0) }
            guard let installed else {
                Issue.record("\(unit) is not installed")
                continue
            }
            let verified = try Shell.run(
                ["systemd-analyze", "verify", installed], environment: ["MANPATH": "\(prefix)/share/man:"])
            #expect(verified.succeeded && verified.stderr.isEmpty, "\(unit): \(verified.stderr)")
        }
    }
}
