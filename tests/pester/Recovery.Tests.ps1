# Recovery through the cmdlets: Get-OBRecoverableSource, Get-OBRecoverableItem (points, browse,
# search, paging), New-OBRecoverableItem, New-OBRecoveryOption, Start-OBRecovery (sync, -Async,
# overwrite types, security, Stop-OBJob), Get-OBAlternateBackupServer and another server's
# backups, a lost cache folder, damaged vault data and Test-OBRecoveryPoint; restores as safe as
# the source (set-id bits, stale temporaries, an item not in the point, the progress counts).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest

    $script:Passphrase = 'Recovery-Test-Passphrase-0123'
    $script:Done = 'The recovery operation completed successfully.'

    # A registered server with a passphrase and a policy over <root>/data, which holds text files,
    # random files, a wide folder, files to search for, a file with a fixed mode and time, and a
    # file with the extended attribute user.x. Returns the data folder.
    function Initialize-RecoveryServer {
        param($Context, [int] $RandomFiles = 3, [int] $RandomSize = 256KB, [int] $WideFolder = 0,
            [string] $Passphrase = $script:Passphrase)
        Register-TestServer $Context | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret $Passphrase) -WarningAction SilentlyContinue | Out-Null
        $data = Join-Path $Context.Root 'data'
        foreach ($d in 'docs', 'sub/deep', 'bin') { New-Item -ItemType Directory -Path (Join-Path $data $d) -Force | Out-Null }
        foreach ($i in 1..5) { Set-Content -LiteralPath (Join-Path $data "docs/file$i.txt") -Value ("line $i " * 300) }
        Set-Content -LiteralPath (Join-Path $data 'finance-q1.txt') -Value 'q1'
        Set-Content -LiteralPath (Join-Path $data 'finance-q2.csv') -Value 'q2'
        Set-Content -LiteralPath (Join-Path $data 'FINANCE-upper.TXT') -Value 'upper'
        Set-Content -LiteralPath (Join-Path $data 'sub/finance-notes.md') -Value 'notes'
        Set-Content -LiteralPath (Join-Path $data 'sub/deep/nested.txt') -Value 'nested'
        $fixed = Join-Path $data 'docs/file1.txt'
        chmod 640 $fixed
        [IO.File]::SetLastWriteTimeUtc($fixed, [DateTime]::new(2021, 3, 4, 5, 6, 7, [DateTimeKind]::Utc))
        setfattr -n user.x -v hello (Join-Path $data 'docs/file2.txt')
        $rnd = [Random]::new(7)
        foreach ($i in 1..$RandomFiles) {
            $bytes = [byte[]]::new($RandomSize)
            $rnd.NextBytes($bytes)
            [IO.File]::WriteAllBytes((Join-Path $data "bin/random$i.bin"), $bytes)
        }
        if ($WideFolder -gt 0) {
            New-Item -ItemType Directory -Path (Join-Path $data 'wide') | Out-Null
            foreach ($i in 1..$WideFolder) { Set-Content -LiteralPath (Join-Path $data ('wide/w{0:D4}.txt' -f $i)) -Value "$i" }
        }
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        $data
    }

    function Invoke-TestBackup {
        $last = Get-OBPolicy | Start-OBBackup | Select-Object -Last 1
        $last | Should -Be 'The backup operation completed successfully.'
    }

    function Use-Server {
        param($Context)
        $env:OBAGENT_HOME = $Context.Home
        $env:OBAGENT_SERVER_NAME = $Context.ServerName
    }

    function Wait-NoJob {
        param([int] $Seconds = 120)
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while ((Get-OBJob) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        Get-OBJob | Should -BeNullOrEmpty
    }

    # A path on the server relative to its data source's root ("/tmp/x/data" in "/" is "tmp/x/data").
    function Get-SourceRelative {
        param([string] $Path, [string] $Source)
        $src = $Source.TrimEnd('/')
        $Path.Substring($src.Length).TrimStart('/')
    }

    # Where Start-OBRecovery puts a backed-up path when restoring into Destination.
    function Get-RestoredPath {
        param([string] $Destination, [string] $Path, [string] $Source)
        Join-Path $Destination (Get-SourceRelative $Path $Source)
    }

    # Every file under Expected has the same bytes, mode and modification time under Actual.
    function Assert-SameTree {
        param([string] $Expected, [string] $Actual)
        $files = @(Get-ChildItem -LiteralPath $Expected -Recurse -File -Force)
        $files.Count | Should -BeGreaterThan 0
        foreach ($f in $files) {
            $rel = $f.FullName.Substring($Expected.Length).TrimStart('/')
            $other = Join-Path $Actual $rel
            $other | Should -Exist
            (Get-FileHash -LiteralPath $other).Hash | Should -Be (Get-FileHash -LiteralPath $f.FullName).Hash -Because $rel
            (stat -c '%a' $other) | Should -Be (stat -c '%a' $f.FullName) -Because "the mode of $rel"
            $delta = ([IO.File]::GetLastWriteTimeUtc($other) - $f.LastWriteTimeUtc).Duration()
            $delta.TotalMilliseconds | Should -BeLessThan 1 -Because "the mtime of $rel"
        }
    }

    # The item for a path of the point, by browsing down from the point one level at a time.
    function Find-ByBrowsing {
        param($Point, [string] $Path)
        $cur = $Point
        foreach ($name in (Get-SourceRelative $Path $Point.MountPointName).Split('/')) {
            $cur = Get-OBRecoverableItem -ParentItem $cur | Where-Object Name -eq $name
            $cur | Should -Not -BeNullOrEmpty -Because "'$name' is in the recovery point"
        }
        $cur
    }

    # Real files (not the engine's temporary ones) under a folder.
    function Get-RestoredFiles {
        param([string] $Path)
        if (-not (Test-Path -LiteralPath $Path)) { return @() }
        @(Get-ChildItem -LiteralPath $Path -Recurse -File -Force | Where-Object Name -notlike '.obagent-restore-*')
    }
}

Describe 'Listing, browsing and searching recovery points' {
    BeforeAll {
        $ctx = New-TestContext
        $data = Initialize-RecoveryServer $ctx -WideFolder 250
        Invoke-TestBackup
        Start-Sleep -Milliseconds 1100
        Set-Content -LiteralPath (Join-Path $data 'docs/file3.txt') -Value 'changed after the first backup'
        Invoke-TestBackup
        $src = @(Get-OBRecoverableSource)
        $rps = @(Get-OBRecoverableItem -Source $src[0])
    }
    AfterAll { Remove-TestContext $ctx }

    It 'Get-OBRecoverableSource returns the data source of the policy' {
        $src.Count | Should -Be 1
        $src[0] | Should -BeOfType 'OBAgent.OBRecoverableSource'
        $ds = (Get-OBPolicy).DsList[0]
        $src[0].FriendlyName | Should -Be $ds.DataSourceName
        $src[0].RecoverySourceName | Should -Be $ds.DataSourceName
        $src[0].DatasourceId | Should -Be $ds.DatasourceId
        $src[0].ServerName | Should -Be $ctx.ServerName
        $data | Should -BeLike "$($src[0].FriendlyName.TrimEnd('/'))/*"
        foreach ($n in 'FriendlyName', 'RecoverySourceName', 'ServerName') { $src[0].PSObject.Properties.Name | Should -Contain $n }
    }

    It 'Get-OBRecoverableItem -Source returns the recovery points, newest first' {
        $rps.Count | Should -Be 2
        $rps[0] | Should -BeOfType 'OBAgent.OBRecoverableItem'
        $rps[0].PointInTime | Should -BeGreaterThan $rps[1].PointInTime
        $all = @(Get-OBAllRecoveryPoints)
        $rps.RecoveryPointId | Should -Be $all.RecoveryPointId
        $rps[0].PointInTime | Should -Be $all[0].BackupTime
        foreach ($p in $rps) {
            $p.IsDir | Should -BeTrue
            $p.IsRecoveryPoint | Should -BeTrue
            $p.ServerName | Should -Be $ctx.ServerName
            $p.ItemNameFriendly | Should -Be $src[0].FriendlyName
            $p.MountPointName | Should -Be $src[0].FriendlyName
            $p.LocalMountPoint | Should -Be $src[0].FriendlyName
            $p.DatasourceId | Should -Be $src[0].DatasourceId
            $p.RecoverySourceID | Should -Be $src[0].DatasourceId
            $p.RecoverySourceID | Should -BeOfType ([long])
            $p.RecoveryPointLocalTime | Should -Be $p.PointInTime
            $p.PointInTime.Kind | Should -Be 'Local'
            $p.ItemNameGuid | Should -Not -BeNullOrEmpty
        }
        $rps[0].ItemNameGuid | Should -Not -Be $rps[1].ItemNameGuid
        @($src[0] | Get-OBRecoverableItem).RecoveryPointId | Should -Be $rps.RecoveryPointId
    }

    It 'browses one level at a time with -ParentItem, down to the files' {
        $top = @(Get-OBRecoverableItem -ParentItem $rps[0])
        $top.Count | Should -BeGreaterThan 0
        $top | ForEach-Object { $_.PointInTime | Should -Be $rps[0].PointInTime }
        $folder = Find-ByBrowsing $rps[0] $data
        $folder.IsDir | Should -BeTrue
        $folder.ItemNameFriendly | Should -Be $data
        $names = @(Get-OBRecoverableItem -ParentItem $folder).Name
        $expected = [string[]]@('bin', 'docs', 'FINANCE-upper.TXT', 'finance-q1.txt', 'finance-q2.csv', 'sub', 'wide')
        [Array]::Sort($expected, [StringComparer]::Ordinal)
        $names | Should -Be $expected -Because 'items come sorted by name'
        $docs = @(Get-OBRecoverableItem -ParentItem $folder) | Where-Object Name -eq 'docs'
        $file = @($docs | Get-OBRecoverableItem) | Where-Object Name -eq 'file1.txt'
        $file.IsDir | Should -BeFalse
        $file.ItemNameFriendly | Should -Be (Join-Path $data 'docs/file1.txt')
        $file.ItemSize | Should -Be (Get-Item (Join-Path $data 'docs/file1.txt')).Length
        $file.ItemLastModifiedTime | Should -Be ([DateTime]::new(2021, 3, 4, 5, 6, 7, [DateTimeKind]::Utc).ToLocalTime())
        $file.ServerName | Should -Be $ctx.ServerName
        $file.MountPointName | Should -Be $src[0].FriendlyName
        $file.RecoveryPointId | Should -Be $rps[0].RecoveryPointId
        foreach ($n in 'IsDir', 'ItemNameFriendly', 'ItemNameGuid', 'LocalMountPoint', 'MountPointName', 'Name', 'PointInTime',
            'ServerName', 'ItemSize', 'ItemLastModifiedTime', 'RecoverySourceID', 'RecoveryPointLocalTime') {
            $file.PSObject.Properties.Name | Should -Contain $n
        }
        $err = Get-ErrorRecord { Get-OBRecoverableItem -ParentItem $file }
        $err.FullyQualifiedErrorId | Should -Be 'NotAFolder,OBAgent.Commands.GetOBRecoverableItemCommand'
    }

    It 'shows each point as it was: the older point has the older content size' {
        $new = Find-ByBrowsing $rps[0] (Join-Path $data 'docs/file3.txt')
        $old = Find-ByBrowsing $rps[1] (Join-Path $data 'docs/file3.txt')
        $new.ItemSize | Should -Be (Get-Item (Join-Path $data 'docs/file3.txt')).Length
        $old.ItemSize | Should -Not -Be $new.ItemSize
    }

    It 'pages with New-OBPagingContext: 100 items a call, then nothing; all items without a context' {
        $wide = Find-ByBrowsing $rps[0] (Join-Path $data 'wide')
        @(Get-OBRecoverableItem -ParentItem $wide).Count | Should -Be 250
        $pc = New-OBPagingContext
        $pc | Should -BeOfType 'OBAgent.OBPagingContext'
        $pc.PageSize | Should -Be 100
        $pages = foreach ($i in 1..4) { , @(Get-OBRecoverableItem -ParentItem $wide -PagingContext $pc) }
        $pages[0].Count | Should -Be 100
        $pages[1].Count | Should -Be 100
        $pages[2].Count | Should -Be 50
        $pages[3].Count | Should -Be 0
        $pc.IsComplete | Should -BeTrue
        $names = $pages | ForEach-Object { $_ } | ForEach-Object Name
        @($names | Sort-Object -Unique).Count | Should -Be 250
        $names[0] | Should -Be 'w0001.txt'
        $names[-1] | Should -Be 'w0250.txt'
        $small = New-OBPagingContext
        $small.PageSize = 40
        $counts = foreach ($i in 1..8) { @(Get-OBRecoverableItem -ParentItem $wide -PagingContext $small).Count }
        $counts | Should -Be @(40, 40, 40, 40, 40, 40, 10, 0)
    }

    It 'searches below -Location with a wildcard -SearchString, case-insensitive, at any depth' {
        $found = @(Get-OBRecoverableItem -RecoveryPoint $rps[0] -Location $data -SearchString 'finance*')
        $found.ItemNameFriendly | Sort-Object | Should -Be (@('FINANCE-upper.TXT', 'finance-q1.txt', 'finance-q2.csv', 'sub/finance-notes.md') |
            ForEach-Object { Join-Path $data $_ } | Sort-Object)
        $found | ForEach-Object { $_.IsDir | Should -BeFalse }
        $rel = Get-SourceRelative $data $src[0].FriendlyName
        @(Get-OBRecoverableItem -RecoveryPoint $rps[0] -Location $rel -SearchString 'finance*').Count | Should -Be 4
        @(Get-OBRecoverableItem -RecoveryPoint $rps[0] -Location (Join-Path $data 'sub') -SearchString 'finance*').Count | Should -Be 1
        @(Get-OBRecoverableItem -RecoveryPoint $rps[0] -Location $data -SearchString 'nested.t?t').Name | Should -Be 'nested.txt'
        @(Get-OBRecoverableItem -RecoveryPoint $rps[0] -Location $data -SearchString 'no-such-*').Count | Should -Be 0
        $pc = New-OBPagingContext
        $pc.PageSize = 3
        $counts = foreach ($i in 1..3) { @(Get-OBRecoverableItem -RecoveryPoint $rps[0] -Location $data -SearchString 'finance*' -PagingContext $pc).Count }
        $counts | Should -Be @(3, 1, 0)
        $err = Get-ErrorRecord { Get-OBRecoverableItem -RecoveryPoint $rps[0] -Location "$data/../../etc" -SearchString '*' }
        $err.FullyQualifiedErrorId | Should -Be 'LocationNotInSource,OBAgent.Commands.GetOBRecoverableItemCommand'
    }

    It 'New-OBRecoverableItem names an item by its relative path, with / or \ and an optional leading separator' {
        $rel = Get-SourceRelative (Join-Path $data 'docs/file1.txt') $src[0].FriendlyName
        $a = New-OBRecoverableItem $rps[0] $rel $false
        $a | Should -BeOfType 'OBAgent.OBRecoverableItem'
        $a.ItemNameFriendly | Should -Be (Join-Path $data 'docs/file1.txt')
        $a.Name | Should -Be 'file1.txt'
        $a.IsDir | Should -BeFalse
        $a.IsRecoveryPoint | Should -BeFalse
        $a.RecoveryPointId | Should -Be $rps[0].RecoveryPointId
        $a.PointInTime | Should -Be $rps[0].PointInTime
        $a.ServerName | Should -Be $ctx.ServerName
        $b = New-OBRecoverableItem -OBRecoverableItem $rps[0] -RelativePath ('\' + $rel.Replace('/', '\')) -IsDir $false
        $b.ItemNameFriendly | Should -Be $a.ItemNameFriendly
        $b.ItemNameGuid | Should -Be $a.ItemNameGuid
        (Find-ByBrowsing $rps[0] (Join-Path $data 'docs/file1.txt')).ItemNameGuid | Should -Be $a.ItemNameGuid
        (New-OBRecoverableItem $rps[0] "/$rel/" $false).ItemNameFriendly | Should -Be $a.ItemNameFriendly
        $err = Get-ErrorRecord { New-OBRecoverableItem $rps[0] '../etc/passwd' $false }
        $err.FullyQualifiedErrorId | Should -Be 'RelativePathNotValid,OBAgent.Commands.NewOBRecoverableItemCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }
}

Describe 'Start-OBRecovery' {
    BeforeAll {
        $ctx = New-TestContext
        $data = Initialize-RecoveryServer $ctx
        Invoke-TestBackup
        $src = @(Get-OBRecoverableSource)[0]
        $rps = @(Get-OBRecoverableItem -Source $src)
        function New-Destination { Join-Path $ctx.Root ('restore-' + [guid]::NewGuid().ToString('N').Substring(0, 8)) }
        function New-TestItem { param([string] $Path, [bool] $IsDir) New-OBRecoverableItem $rps[0] (Get-SourceRelative $Path $src.FriendlyName) $IsDir }
    }
    AfterAll { Wait-NoJob; Remove-TestContext $ctx }

    It 'New-OBRecoveryOption: defaults, positions, and a relative path resolved against the location' {
        $o = New-OBRecoveryOption
        $o | Should -BeOfType 'OBAgent.OBRecoveryOption'
        $o.DestinationPath | Should -BeNullOrEmpty
        $o.OverwriteType | Should -Be 'CreateCopy'
        $o.RestoreSecurity | Should -BeTrue
        $p = New-OBRecoveryOption /tmp/x Skip -SkipRestoreSecurity
        $p.DestinationPath | Should -Be '/tmp/x'
        $p.OverwriteType | Should -Be 'Skip'
        $p.RestoreSecurity | Should -BeFalse
        Push-Location $ctx.Root
        try { (New-OBRecoveryOption -DestinationPath 'rel/dir').DestinationPath | Should -Be (Join-Path $ctx.Root 'rel/dir') }
        finally { Pop-Location }
        { New-OBRecoveryOption -OverwriteType Sometimes } | Should -Throw
        foreach ($n in 'DestinationPath', 'OverwriteType', 'RestoreSecurity') { $o.PSObject.Properties.Name | Should -Contain $n }
    }

    It 'restores a folder to a DestinationPath: same bytes, modes and times; a Recovery job, Completed' {
        $dest = New-Destination
        $out = @(Start-OBRecovery -RecoverableItem (New-TestItem (Join-Path $data 'docs') $true) -RecoveryOption (New-OBRecoveryOption -DestinationPath $dest))
        $out[0] | Should -Be 'Estimating size of backup items...'
        $out[-1] | Should -Be $script:Done
        Assert-SameTree (Join-Path $data 'docs') (Get-RestoredPath $dest (Join-Path $data 'docs') $src.FriendlyName)
        (Get-RestoredPath $dest (Join-Path $data 'bin') $src.FriendlyName) | Should -Not -Exist
        $job = Get-OBJob -Previous 1
        $job.JobType | Should -Be 'Recovery'
        $job.JobStatus.JobState | Should -Be 'Completed'
        $job.FailedFileCount | Should -Be 0
    }

    It 'restores a whole recovery point (the point item itself)' {
        $dest = New-Destination
        (Start-OBRecovery $rps[0] (New-OBRecoveryOption $dest) | Select-Object -Last 1) | Should -Be $script:Done
        Assert-SameTree $data (Get-RestoredPath $dest $data $src.FriendlyName)
    }

    It 'restores a single file found by search, taken from the pipeline' {
        $dest = New-Destination
        $out = Get-OBRecoverableItem -RecoveryPoint $rps[0] -Location $data -SearchString 'random2.bin' |
            Start-OBRecovery -RecoveryOption (New-OBRecoveryOption -DestinationPath $dest)
        $out[-1] | Should -Be $script:Done
        $restored = Get-RestoredPath $dest (Join-Path $data 'bin/random2.bin') $src.FriendlyName
        (Get-FileHash $restored).Hash | Should -Be (Get-FileHash (Join-Path $data 'bin/random2.bin')).Hash
        @(Get-RestoredFiles $dest).Count | Should -Be 1
    }

    It 'restores several items of one point together' {
        $dest = New-Destination
        $items = @(Get-OBRecoverableItem -RecoveryPoint $rps[0] -Location $data -SearchString 'finance*')
        $items.Count | Should -Be 4
        ($items | Start-OBRecovery -RecoveryOption (New-OBRecoveryOption $dest) | Select-Object -Last 1) | Should -Be $script:Done
        @(Get-RestoredFiles $dest).Count | Should -Be 4
    }

    It 'restores to the original location when no DestinationPath is given' {
        $file = Join-Path $data 'docs/file4.txt'
        $hash = (Get-FileHash $file).Hash
        Remove-Item -LiteralPath $file
        (Start-OBRecovery (New-TestItem $file $false) | Select-Object -Last 1) | Should -Be $script:Done
        (Get-FileHash $file).Hash | Should -Be $hash
    }

    It 'CreateCopy restores beside an existing file as "yyyy-MM-dd HH-mm Copy of name"; Skip leaves it; Overwrite replaces it' {
        $dest = New-Destination
        $item = New-TestItem (Join-Path $data 'docs/file5.txt') $false
        $original = (Get-FileHash (Join-Path $data 'docs/file5.txt')).Hash
        Start-OBRecovery $item (New-OBRecoveryOption $dest) | Out-Null
        $restored = Get-RestoredPath $dest (Join-Path $data 'docs/file5.txt') $src.FriendlyName
        $folder = Split-Path $restored
        Set-Content -LiteralPath $restored -Value 'changed locally'
        $local = (Get-FileHash $restored).Hash

        (Start-OBRecovery $item (New-OBRecoveryOption $dest CreateCopy) | Select-Object -Last 1) | Should -Be $script:Done
        (Get-FileHash $restored).Hash | Should -Be $local
        $copies = @(Get-ChildItem -LiteralPath $folder -File | Where-Object Name -ne 'file5.txt')
        $copies.Count | Should -Be 1
        $copies[0].Name | Should -Match '^\d{4}-\d{2}-\d{2} \d{2}-\d{2} Copy of file5\.txt$'
        (Get-FileHash $copies[0].FullName).Hash | Should -Be $original

        (Start-OBRecovery $item (New-OBRecoveryOption $dest Skip) | Select-Object -Last 1) | Should -Be $script:Done
        (Get-FileHash $restored).Hash | Should -Be $local
        @(Get-ChildItem -LiteralPath $folder -File).Count | Should -Be 2

        (Start-OBRecovery $item (New-OBRecoveryOption $dest Overwrite) | Select-Object -Last 1) | Should -Be $script:Done
        (Get-FileHash $restored).Hash | Should -Be $original
        @(Get-ChildItem -LiteralPath $folder -File).Count | Should -Be 2
    }

    It 'restores extended attributes, unless -SkipRestoreSecurity' {
        $file = Join-Path $data 'docs/file2.txt'
        (getfattr -n user.x --only-values $file) | Should -Be 'hello'
        $item = New-TestItem $file $false
        $with = New-Destination
        Start-OBRecovery $item (New-OBRecoveryOption $with) | Out-Null
        (getfattr -n user.x --only-values (Get-RestoredPath $with $file $src.FriendlyName)) | Should -Be 'hello'
        $without = New-Destination
        Start-OBRecovery $item (New-OBRecoveryOption $without -SkipRestoreSecurity) | Out-Null
        $restored = Get-RestoredPath $without $file $src.FriendlyName
        (Get-FileHash $restored).Hash | Should -Be (Get-FileHash $file).Hash
        $attrs = getfattr -d $restored 2>$null
        ($attrs -join "`n") | Should -Not -Match 'user\.x'
    }

    It 'with -Async returns the Recovery job at once' {
        $dest = New-Destination
        $job = Start-OBRecovery (New-TestItem (Join-Path $data 'bin') $true) (New-OBRecoveryOption $dest) -Async
        $job | Should -BeOfType 'OBAgent.OBJob'
        $job.JobType | Should -Be 'Recovery'
        $job.JobStatus.JobState | Should -BeIn @('InProgress', 'Completed')
        Wait-NoJob
        $last = Get-OBJob -Previous 1
        $last.JobId | Should -Be $job.JobId
        $last.JobStatus.JobState | Should -Be 'Completed'
        Assert-SameTree (Join-Path $data 'bin') (Get-RestoredPath $dest (Join-Path $data 'bin') $src.FriendlyName)
    }

    It '-WhatIf restores nothing' {
        $dest = New-Destination
        $before = (Get-OBJob -Previous 1).JobId
        Start-OBRecovery $rps[0] (New-OBRecoveryOption $dest) -WhatIf | Out-Null
        $dest | Should -Not -Exist
        (Get-OBJob -Previous 1).JobId | Should -Be $before
    }

    It 'refuses items of two recovery points in one recovery' {
        Set-Content -LiteralPath (Join-Path $data 'docs/file3.txt') -Value 'for a second point'
        Start-Sleep -Milliseconds 1100
        Invoke-TestBackup
        $two = @(Get-OBRecoverableItem -Source $src)
        $two.Count | Should -Be 2
        $err = Get-ErrorRecord { $two | Start-OBRecovery -RecoveryOption (New-OBRecoveryOption (New-Destination)) }
        $err.FullyQualifiedErrorId | Should -Be 'RecoverableItemsFromSeveralPoints,OBAgent.Commands.StartOBRecoveryCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'fails clearly for an item that is not in the point, and restores nothing' {
        $dest = New-Destination
        $missing = New-OBRecoverableItem $rps[0] (Get-SourceRelative (Join-Path $data 'no/such/file.txt') $src.FriendlyName) $false
        $err = Get-ErrorRecord { Start-OBRecovery $missing (New-OBRecoveryOption $dest) }
        $err | Should -Not -BeNullOrEmpty
        $err.Exception.Message | Should -Match 'file\.txt|not'
        @(Get-RestoredFiles $dest).Count | Should -Be 0
    }
}

Describe 'Another server of the same vault' {
    BeforeAll {
        $a = New-TestContext
        $data = Initialize-RecoveryServer $a -Passphrase 'Alpha-Server-Passphrase-42'
        Invoke-TestBackup
        $b = New-TestContext
        $b.Vault = $a.Vault
        Use-Server $b
        $credsB = Register-TestServer $b
    }
    AfterAll {
        Use-Server $a; Wait-NoJob
        Use-Server $b; Wait-NoJob
        Remove-TestContext $b
        Remove-TestContext $a
    }
    BeforeEach { Use-Server $b }

    It 'Get-OBAlternateBackupServer lists the other servers of the vault, not this one' {
        $servers = @(Get-OBAlternateBackupServer)
        $servers.ServerName | Should -Contain $a.ServerName
        $servers.ServerName | Should -Not -Contain $b.ServerName
        $s = $servers | Where-Object ServerName -eq $a.ServerName
        $s | Should -BeOfType 'OBAgent.OBBackupServer'
        $s.ServerId | Should -Not -BeNullOrEmpty
        $s.RegisteredTime | Should -BeOfType [DateTime]
        ((Get-OBAlternateBackupServer -VaultCredentials $credsB.FullName)[2]).ServerName | Should -Contain $a.ServerName
        (Get-ErrorRecord { Get-OBAlternateBackupServer -VaultCredentials 'relative.VaultCredentials' }).FullyQualifiedErrorId |
            Should -Be 'VaultCredentialsPathNotAbsolute,OBAgent.Commands.GetOBAlternateBackupServerCommand'
        (Get-ErrorRecord { Get-OBAlternateBackupServer -VaultCredentials (Join-Path $b.Root 'none.VaultCredentials') }).FullyQualifiedErrorId |
            Should -Be 'VaultCredentialsNotFound,OBAgent.Commands.GetOBAlternateBackupServerCommand'
        Use-Server $a
        (@(Get-OBAlternateBackupServer)).ServerName | Should -Be @($b.ServerName)
    }

    It 'lists the other server''s sources and points without a passphrase, and asks for it where content is read' {
        $server = Get-OBAlternateBackupServer | Where-Object ServerName -eq $a.ServerName
        $sources = @(Get-OBRecoverableSource -Server $server)
        $sources.Count | Should -Be 1
        $sources[0].ServerName | Should -Be $a.ServerName
        @($server | Get-OBRecoverableSource).FriendlyName | Should -Be $sources[0].FriendlyName
        @(Get-OBRecoverableSource).Count | Should -Be 0 -Because 'this server has no backups of its own'
        # MARS's flow: the points list without the passphrase (from the summaries the server signed) ...
        $open = @(Get-OBRecoverableItem -Source $sources[0] -WarningVariable warned)
        $warned.Count | Should -Be 0
        $sealed = @(Get-OBRecoverableItem -Source $sources[0] -EncryptionPassphrase (ConvertTo-TestSecret 'Alpha-Server-Passphrase-42'))
        $open.Count | Should -Be 1
        $open[0].RecoveryPointId | Should -Be $sealed[0].RecoveryPointId
        $open[0].PointInTime | Should -Be $sealed[0].PointInTime
        $open[0].ItemSize | Should -Be $sealed[0].ItemSize
        $open[0].ServerName | Should -Be $a.ServerName
        $open[0].IsDir | Should -BeTrue
        # ... and browsing, which reads content, needs it.
        $err = Get-ErrorRecord { Get-OBRecoverableItem -ParentItem $open[0] }
        $err.Exception.Message | Should -Match '-EncryptionPassphrase'
        $err.FullyQualifiedErrorId | Should -Match '^(PassphraseIncorrect|EncryptionPassphraseNotSet),OBAgent\.Commands\.GetOBRecoverableItemCommand$'
        $err = Get-ErrorRecord { Get-OBRecoverableItem -ParentItem $open[0] -EncryptionPassphrase (ConvertTo-TestSecret 'Wrong-Passphrase-000000') }
        $err.FullyQualifiedErrorId | Should -Be 'PassphraseIncorrect,OBAgent.Commands.GetOBRecoverableItemCommand'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
    }

    It 'restores from a point listed without the passphrase, giving it to Start-OBRecovery only (MARS''s alternate-server flow)' {
        $pp = ConvertTo-TestSecret 'Alpha-Server-Passphrase-42'
        $source = Get-OBAlternateBackupServer | Where-Object ServerName -eq $a.ServerName | Get-OBRecoverableSource
        $rp = @(Get-OBRecoverableItem -Source $source)[0]
        $item = New-OBRecoverableItem $rp (Get-SourceRelative (Join-Path $data 'docs') $source.FriendlyName) $true
        $dest = Join-Path $b.Root 'restore-nopass'
        (Start-OBRecovery -RecoverableItem $item -RecoveryOption (New-OBRecoveryOption $dest) -EncryptionPassphrase $pp |
            Select-Object -Last 1) | Should -Be $script:Done
        Assert-SameTree (Join-Path $data 'docs') (Get-RestoredPath $dest (Join-Path $data 'docs') $source.FriendlyName)
    }

    It 'never trusts a summary that is changed, moved to another point, or missing: the point is listed sealed, with a warning' {
        $source = Get-OBAlternateBackupServer | Where-Object ServerName -eq $a.ServerName | Get-OBRecoverableSource
        $rp = @(Get-OBRecoverableItem -Source $source)[0]
        $dir = @(Get-ChildItem -Path (Join-Path $a.Vault 'servers/*/summaries') -Directory |
            Where-Object { Test-Path (Join-Path $_.FullName $rp.RecoveryPointId) })[0].FullName
        $file = Join-Path $dir $rp.RecoveryPointId
        $genuine = [System.IO.File]::ReadAllBytes($file)
        try {
            # Changed: another file count, the signature kept.
            $text = [System.Text.Encoding]::UTF8.GetString($genuine) -replace '(?m)^files=\d+', 'files=999999'
            Remove-Item -LiteralPath $file -Force
            [System.IO.File]::WriteAllText($file, $text)
            $listed = @(Get-OBRecoverableItem -Source $source -WarningVariable warned -WarningAction SilentlyContinue)
            $listed.Count | Should -Be 1
            $listed[0].RecoveryPointId | Should -Be $rp.RecoveryPointId
            ($warned -join "`n") | Should -Match 'sealed'
            ($warned -join "`n") | Should -Match '-EncryptionPassphrase'
            # Moved: a genuine summary under another point's name says another point, so it does not count.
            Remove-Item -LiteralPath $file -Force
            $other = Join-Path $dir ('000000000001-000000000-0000000000000000')
            [System.IO.File]::WriteAllBytes($other, $genuine)
            $listed = @(Get-OBRecoverableItem -Source $source -WarningVariable warned -WarningAction SilentlyContinue)
            $listed.Count | Should -Be 1 -Because 'a summary without a point lists nothing'
            ($warned -join "`n") | Should -Match 'sealed'
            Remove-Item -LiteralPath $other -Force
        } finally {
            if (Test-Path -LiteralPath $file) { Remove-Item -LiteralPath $file -Force }
            [System.IO.File]::WriteAllBytes($file, $genuine)
        }
        @(Get-OBRecoverableItem -Source $source -WarningVariable warned).Count | Should -Be 1
        $warned.Count | Should -Be 0
    }

    It 'restores the other server''s items with its passphrase, to a DestinationPath only' {
        $pp = ConvertTo-TestSecret 'Alpha-Server-Passphrase-42'
        $source = Get-OBAlternateBackupServer | Where-Object ServerName -eq $a.ServerName | Get-OBRecoverableSource
        $rps = @(Get-OBRecoverableItem -Source $source -EncryptionPassphrase $pp)
        $rps.Count | Should -Be 1
        $rps[0].ServerName | Should -Be $a.ServerName
        (@(Get-OBRecoverableItem -ParentItem $rps[0] -EncryptionPassphrase $pp)).Count | Should -BeGreaterThan 0
        $item = New-OBRecoverableItem $rps[0] (Get-SourceRelative (Join-Path $data 'docs') $source.FriendlyName) $true

        (Get-ErrorRecord { Start-OBRecovery $item -EncryptionPassphrase $pp }).FullyQualifiedErrorId |
            Should -Be 'DestinationPathRequired,OBAgent.Commands.StartOBRecoveryCommand'
        $dest = Join-Path $b.Root 'restore'
        (Get-ErrorRecord { Start-OBRecovery $item (New-OBRecoveryOption $dest) }).FullyQualifiedErrorId |
            Should -Be 'EncryptionPassphraseRequired,OBAgent.Commands.StartOBRecoveryCommand'

        (Start-OBRecovery $item (New-OBRecoveryOption $dest) -EncryptionPassphrase $pp | Select-Object -Last 1) | Should -Be $script:Done
        Assert-SameTree (Join-Path $data 'docs') (Get-RestoredPath $dest (Join-Path $data 'docs') $source.FriendlyName)
        (Get-OBJob -Previous 1).JobType | Should -Be 'Recovery'
    }

    It 'fails with a clear passphrase error and writes nothing with a wrong passphrase' {
        $pp = ConvertTo-TestSecret 'Alpha-Server-Passphrase-42'
        $source = Get-OBAlternateBackupServer | Where-Object ServerName -eq $a.ServerName | Get-OBRecoverableSource
        $rp = @(Get-OBRecoverableItem -Source $source -EncryptionPassphrase $pp)[0]
        $dest = Join-Path $b.Root 'wrong'
        $err = Get-ErrorRecord { Start-OBRecovery $rp (New-OBRecoveryOption $dest) -EncryptionPassphrase (ConvertTo-TestSecret 'Wrong-Passphrase-000000') }
        $err.FullyQualifiedErrorId | Should -Be 'PassphraseIncorrect,OBAgent.Commands.StartOBRecoveryCommand'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.Exception.Message | Should -Match ([regex]::Escape($a.ServerName))
        @(Get-RestoredFiles $dest).Count | Should -Be 0
        Test-SecretInFiles -Path $b.Home -Text 'Alpha-Server-Passphrase-42' | Should -BeNullOrEmpty
    }

    It 'gives a point written before summaries existed its summary at the server''s next backup' {
        $source = Get-OBAlternateBackupServer | Where-Object ServerName -eq $a.ServerName | Get-OBRecoverableSource
        $first = @(Get-OBRecoverableItem -Source $source)[0]
        $dir = @(Get-ChildItem -Path (Join-Path $a.Vault 'servers/*/summaries') -Directory |
            Where-Object { Test-Path (Join-Path $_.FullName $first.RecoveryPointId) })[0].FullName
        Remove-Item -LiteralPath (Join-Path $dir $first.RecoveryPointId) -Force
        @(Get-OBRecoverableItem -Source $source -WarningAction SilentlyContinue -WarningVariable warned).Count | Should -Be 1
        ($warned -join "`n") | Should -Match 'older obagent'
        Use-Server $a
        Set-Content -Path (Join-Path $data 'new-after-upgrade.txt') -Value 'written after the summary was lost'
        Invoke-TestBackup
        Use-Server $b
        $points = @(Get-OBRecoverableItem -Source $source -WarningVariable warned)
        $warned.Count | Should -Be 0
        $points.Count | Should -Be 2
        $points[1].RecoveryPointId | Should -Be $first.RecoveryPointId
        $points[0].RecoveryPointId | Should -Not -Be $first.RecoveryPointId
        Test-Path (Join-Path $dir $first.RecoveryPointId) | Should -BeTrue
    }
}

Describe 'A lost cache folder' {
    BeforeAll {
        $ctx = New-TestContext
        $data = Initialize-RecoveryServer $ctx -RandomFiles 4 -RandomSize 2MB
        Invoke-TestBackup
        $oldHash = (Get-FileHash (Join-Path $data 'docs/file3.txt')).Hash
        Start-Sleep -Milliseconds 1100
        Set-Content -LiteralPath (Join-Path $data 'docs/file3.txt') -Value 'second version'
        Invoke-TestBackup
        $points = @(Get-OBAllRecoveryPoints).RecoveryPointId
    }
    AfterAll { Wait-NoJob; Remove-TestContext $ctx }

    It 'after registering again with a new credentials file and the same passphrase: every point is listed and restorable, and the next backup uploads little' {
        Remove-Item -LiteralPath $ctx.Home -Recurse -Force
        Register-TestServer $ctx | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret $script:Passphrase) -WarningAction SilentlyContinue | Out-Null
        @(Get-OBAllRecoveryPoints).RecoveryPointId | Should -Be $points
        $src = @(Get-OBRecoverableSource)[0]
        $rps = @(Get-OBRecoverableItem -Source $src)
        $rps.RecoveryPointId | Should -Be $points

        $dest = Join-Path $ctx.Root 'old'
        $item = New-OBRecoverableItem $rps[1] (Get-SourceRelative (Join-Path $data 'docs/file3.txt') $src.FriendlyName) $false
        (Start-OBRecovery $item (New-OBRecoveryOption $dest) | Select-Object -Last 1) | Should -Be $script:Done
        (Get-FileHash (Get-RestoredPath $dest (Join-Path $data 'docs/file3.txt') $src.FriendlyName)).Hash | Should -Be $oldHash
        $dest = Join-Path $ctx.Root 'new'
        (Start-OBRecovery $rps[0] (New-OBRecoveryOption $dest) | Select-Object -Last 1) | Should -Be $script:Done
        Assert-SameTree (Join-Path $data 'bin') (Get-RestoredPath $dest (Join-Path $data 'bin') $src.FriendlyName)

        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        Invoke-TestBackup
        $size = (Get-ChildItem -LiteralPath $data -Recurse -File | Measure-Object -Property Length -Sum).Sum
        $size | Should -BeGreaterThan 8MB
        $uploaded = (Get-OBJob -Previous 1).JobStatus.DatasourceStatus[0].ByteProgress.Uploaded
        $uploaded | Should -BeLessThan ($size / 10)
    }
}

Describe 'Damaged vault data' {
    BeforeAll {
        $ctx = New-TestContext
        $data = Initialize-RecoveryServer $ctx -RandomFiles 6 -RandomSize 1536KB
        Invoke-TestBackup
        $src = @(Get-OBRecoverableSource)[0]
        $rp = @(Get-OBRecoverableItem -Source $src)[0]
    }
    AfterAll { Wait-NoJob; Remove-TestContext $ctx }

    It 'Test-OBRecoveryPoint says a healthy point is healthy' {
        $t = Test-OBRecoveryPoint $rp
        $t | Should -BeOfType 'OBAgent.OBRecoveryPointTest'
        $t.Healthy | Should -BeTrue
        @($t.Damaged).Count | Should -Be 0
        $t.ObjectsChecked | Should -BeGreaterThan 0
        $t.ServerName | Should -Be $ctx.ServerName
        $t.RecoveryPointTime | Should -Be $rp.PointInTime
        foreach ($n in 'RecoveryPointTime', 'ServerName', 'ObjectsChecked', 'Healthy', 'Damaged') { $t.PSObject.Properties.Name | Should -Contain $n }
    }

    It 'with a byte flipped in a pack: the recovery ends CompletedWithWarning naming the damaged file, the others restore; the test reports it' {
        $pack = Get-ChildItem -Path (Join-Path $ctx.Vault 'servers/*/packs/*/*') -File | Sort-Object Length -Descending | Select-Object -First 1
        $pack | Should -Not -BeNullOrEmpty
        $bytes = [IO.File]::ReadAllBytes($pack.FullName)
        $bytes[[int]($bytes.Length / 2)] = $bytes[[int]($bytes.Length / 2)] -bxor 0xFF
        [IO.File]::WriteAllBytes($pack.FullName, $bytes)

        $t = Test-OBRecoveryPoint -RecoverableItem $rp
        $t.Healthy | Should -BeFalse
        @($t.Damaged).Count | Should -Be 1
        $t.Damaged[0].Path | Should -Match 'random\d\.bin'
        $t.Damaged[0].Problem | Should -Not -BeNullOrEmpty
        $damagedName = [regex]::Match($t.Damaged[0].Path, 'random\d\.bin').Value

        $dest = Join-Path $ctx.Root 'restore'
        $warn = $null
        $out = @(Start-OBRecovery $rp (New-OBRecoveryOption $dest) -WarningVariable warn -WarningAction SilentlyContinue)
        $out[-1] | Should -Match 'completed with warnings'
        ($warn -join "`n") | Should -Match ([regex]::Escape($damagedName))
        $job = Get-OBJob -Previous 1
        $job.JobStatus.JobState | Should -Be 'CompletedWithWarning'
        $job.FailedFileCount | Should -Be 1
        $job.GetFailedFiles()[0].Path | Should -Match ([regex]::Escape($damagedName))
        $bin = Get-RestoredPath $dest (Join-Path $data 'bin') $src.FriendlyName
        Join-Path $bin $damagedName | Should -Not -Exist
        foreach ($f in Get-ChildItem -LiteralPath (Join-Path $data 'bin') -File | Where-Object Name -ne $damagedName) {
            (Get-FileHash (Join-Path $bin $f.Name)).Hash | Should -Be (Get-FileHash $f.FullName).Hash
        }
        Assert-SameTree (Join-Path $data 'docs') (Get-RestoredPath $dest (Join-Path $data 'docs') $src.FriendlyName)
        @(Get-ChildItem -LiteralPath $dest -Recurse -Force -File | Where-Object Name -like '.obagent-restore-*').Count | Should -Be 0
    }

    It 'the next backup stores the damaged data again: its point and the old one test healthy' {
        Invoke-TestBackup
        $new = @(Get-OBRecoverableItem -Source $src)[0]
        $new.RecoveryPointId | Should -Not -Be $rp.RecoveryPointId
        (Test-OBRecoveryPoint $new).Healthy | Should -BeTrue
        $t = Test-OBRecoveryPoint $rp
        $t.Healthy | Should -BeTrue
        @($t.Damaged).Count | Should -Be 0
    }

    It 'a point whose record is damaged is listed as Damaged with a warning, and Test-OBRecoveryPoint fails it' {
        $snap = Get-ChildItem -Path (Join-Path $ctx.Vault "servers/*/snapshots/$($rp.RecoveryPointId)") -File
        $snap | Should -Not -BeNullOrEmpty
        $bytes = [IO.File]::ReadAllBytes($snap.FullName)
        $bytes[20] = $bytes[20] -bxor 0x01
        [IO.File]::WriteAllBytes($snap.FullName, $bytes)

        $warn = $null
        $items = @(Get-OBRecoverableItem -Source $src -WarningVariable warn -WarningAction SilentlyContinue)
        $bad = $items | Where-Object RecoveryPointId -eq $rp.RecoveryPointId
        $bad | Should -Not -BeNullOrEmpty
        $bad.State | Should -Be 'Damaged'
        @($items | Where-Object RecoveryPointId -ne $rp.RecoveryPointId).State | Should -Be 'Available'
        ($warn -join "`n") | Should -Match ([regex]::Escape($rp.RecoveryPointId) + '.*is damaged')

        $warn = $null
        $all = @(Get-OBAllRecoveryPoints -WarningVariable warn -WarningAction SilentlyContinue)
        ($all | Where-Object RecoveryPointId -eq $rp.RecoveryPointId).State | Should -Be 'Damaged'
        ($all | Where-Object RecoveryPointId -eq $rp.RecoveryPointId).Problem | Should -Not -BeNullOrEmpty
        ($warn -join "`n") | Should -Match 'Nothing can be restored from it'

        $t = Test-OBRecoveryPoint $bad
        $t.Healthy | Should -BeFalse
        $t.ObjectsChecked | Should -Be 1
        @($t.Damaged).Count | Should -Be 1
        $t.Damaged[0].Path | Should -Be '(recovery point)'
        $t.Damaged[0].Problem | Should -Match 'nothing can be restored'
    }
}

Describe 'Stop-OBJob during a big recovery' {
    BeforeAll {
        $ctx = New-TestContext
        $data = Initialize-RecoveryServer $ctx -RandomFiles 6 -RandomSize 64MB
        Invoke-TestBackup
        $src = @(Get-OBRecoverableSource)[0]
        $rp = @(Get-OBRecoverableItem -Source $src)[0]
    }
    AfterAll { Wait-NoJob; Remove-TestContext $ctx }

    It 'ends Aborted and keeps the files already restored' {
        $dest = Join-Path $ctx.Root 'restore'
        $item = New-OBRecoverableItem $rp (Get-SourceRelative (Join-Path $data 'bin') $src.FriendlyName) $true
        $job = Start-OBRecovery $item (New-OBRecoveryOption $dest) -Async
        $bin = Get-RestoredPath $dest (Join-Path $data 'bin') $src.FriendlyName
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (@(Get-RestoredFiles $bin).Count -lt 1 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $stopped = $job | Stop-OBJob -Confirm:$false
        $stopped.JobStatus.JobState | Should -Be 'Aborted'
        $stopped.JobType | Should -Be 'Recovery'
        $kept = @(Get-RestoredFiles $bin)
        $kept.Count | Should -BeGreaterThan 0
        $kept.Count | Should -BeLessThan 6
        foreach ($f in $kept) { (Get-FileHash $f.FullName).Hash | Should -Be (Get-FileHash (Join-Path $data "bin/$($f.Name)")).Hash }
        (Get-OBJob -Previous 1 -Status Failed).JobId | Should -Be $job.JobId
    }
}

Describe 'Restores as safe as the source' {
    BeforeAll {
        $ctx = New-TestContext
        $data = Initialize-RecoveryServer $ctx -RandomFiles 1
        $tool = Join-Path $data 'setid/tool'
        New-Item -ItemType Directory -Path (Split-Path $tool) | Out-Null
        Set-Content -LiteralPath $tool -Value '#!/bin/sh'
        $root = (id -u) -eq '0'
        if ($root) {
            chown 65534:65534 $tool
            chmod 6755 $tool
        }
        Invoke-TestBackup
        $src = @(Get-OBRecoverableSource)[0]
        $rp = @(Get-OBRecoverableItem -Source $src)[0]
        function New-Destination { Join-Path $ctx.Root ('restore-' + [guid]::NewGuid().ToString('N').Substring(0, 8)) }
        function New-TestItem { param([string] $Path, [bool] $IsDir) New-OBRecoverableItem $rp (Get-SourceRelative $Path $src.FriendlyName) $IsDir }
    }
    AfterAll { Wait-NoJob; Remove-TestContext $ctx }

    It 'gives set-id bits back only with the owner: -SkipRestoreSecurity clears them' {
        if (-not $root) { Set-ItResult -Skipped -Because 'a file of another owner needs root'; return }
        (stat -c '%a %u' $tool) | Should -Be '6755 65534'
        $item = New-TestItem $tool $false
        $without = New-Destination
        (Start-OBRecovery $item (New-OBRecoveryOption $without -SkipRestoreSecurity) | Select-Object -Last 1) | Should -Be $script:Done
        $restored = Get-RestoredPath $without $tool $src.FriendlyName
        (stat -c '%a %u' $restored) | Should -Be '755 0'
        $with = New-Destination
        (Start-OBRecovery $item (New-OBRecoveryOption $with) -RestoreSpecialFiles | Select-Object -Last 1) | Should -Be $script:Done
        (stat -c '%a %u' (Get-RestoredPath $with $tool $src.FriendlyName)) | Should -Be '6755 65534'
    }

    It 'gives set-id bits back only with -RestoreSpecialFiles: without it the file comes back without them, with a warning' {
        if (-not $root) { Set-ItResult -Skipped -Because 'a file of another owner needs root'; return }
        $item = New-TestItem $tool $false
        $dest = New-Destination
        $warn = $null
        $out = @(Start-OBRecovery $item (New-OBRecoveryOption $dest) -WarningVariable warn -WarningAction SilentlyContinue)
        $out[-1] | Should -Match 'completed with warnings'
        ($warn -join "`n") | Should -Match 'set-user-id'
        $job = Get-OBJob -Previous 1
        $job.JobStatus.JobState | Should -Be 'CompletedWithWarning'
        $job.FailedFileCount | Should -Be 1
        $job.GetFailedFiles()[0].Path | Should -Match 'setid/tool$'
        $job.GetFailedFiles()[0].Reason | Should -Match 'RestoreSpecialFiles'
        (stat -c '%a %u' (Get-RestoredPath $dest $tool $src.FriendlyName)) | Should -Be '755 65534'
        (Get-Command Start-OBRecovery).Parameters['RestoreSpecialFiles'].SwitchParameter | Should -BeTrue
    }

    It 'removes the temporaries of a restore whose process is gone, and only those' {
        $dest = New-Destination
        $docs = Get-RestoredPath $dest (Join-Path $data 'docs') $src.FriendlyName
        New-Item -ItemType Directory -Path $docs -Force | Out-Null
        # No process has an id above the kernel's pid_max (at most 4194304): that restore is gone.
        $stale = Join-Path $docs '.obagent-restore-2147483000-0123456789ab'
        $live = Join-Path $docs ".obagent-restore-$PID-0123456789ab"
        $other = Join-Path $docs '.obagent-restore-my-notes'
        foreach ($f in $stale, $live, $other) { Set-Content -LiteralPath $f -Value 'partial' }
        (Start-OBRecovery (New-TestItem (Join-Path $data 'docs') $true) (New-OBRecoveryOption $dest) | Select-Object -Last 1) | Should -Be $script:Done
        $stale | Should -Not -Exist
        $live | Should -Exist
        $other | Should -Exist
        Assert-SameTree (Join-Path $data 'docs') $docs
    }

    It 'makes nothing for an item that is not in the point, not even the destination' {
        $dest = New-Destination
        $err = Get-ErrorRecord { Start-OBRecovery (New-OBRecoverableItem $rp 'no/such/file.txt' $false) (New-OBRecoveryOption $dest) }
        $err | Should -Not -BeNullOrEmpty
        $err.Exception.Message | Should -Match 'not in recovery point'
        $dest | Should -Not -Exist
        (Get-OBJob -Previous 1).JobStatus.JobState | Should -Be 'Failed'
    }

    It 'a short recovery shows its final counts, never "0 of 0 files" at the end' {
        $dest = New-Destination
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript({
                param($Module, $PointTime, $Path, $Dest)
                Import-Module (Join-Path $Module 'OBAgent.psd1')
                $src = @(Get-OBRecoverableSource)[0]
                $point = @(Get-OBRecoverableItem -Source $src) | Where-Object PointInTime -eq $PointTime | Select-Object -First 1
                Start-OBRecovery (New-OBRecoverableItem $point $Path $true) (New-OBRecoveryOption $Dest)
            }).AddArgument($env:OBAGENT_TEST_MODULE).AddArgument($rp.PointInTime).AddArgument(
                (Get-SourceRelative (Join-Path $data 'docs') $src.FriendlyName)).AddArgument($dest)
            $out = @($ps.Invoke())
            $ps.Streams.Error | Should -BeNullOrEmpty
            $out[-1] | Should -Be $script:Done
            $records = @($ps.Streams.Progress | Where-Object Activity -eq 'Recovering')
            $records.Count | Should -BeGreaterThan 0
            $last = $records[-1].StatusDescription
            $last | Should -Match '^5 of 5 files'
            @($records | Where-Object { $_.StatusDescription -like '0 of 0 files*' }).Count | Should -Be 0
        } finally {
            $ps.Dispose()
        }
    }
}

Describe 'A restore that was killed' {
    BeforeAll {
        $ctx = New-TestContext
        $data = Initialize-RecoveryServer $ctx -RandomFiles 6 -RandomSize 64MB
        Invoke-TestBackup
        $src = @(Get-OBRecoverableSource)[0]
        $rp = @(Get-OBRecoverableItem -Source $src)[0]
    }
    AfterAll { Wait-NoJob; Remove-TestContext $ctx }

    It 'leaves temporaries that the next restore into the same place removes' {
        $dest = Join-Path $ctx.Root 'restore'
        $item = New-OBRecoverableItem $rp (Get-SourceRelative (Join-Path $data 'bin') $src.FriendlyName) $true
        $bin = Get-RestoredPath $dest (Join-Path $data 'bin') $src.FriendlyName
        $job = Start-OBRecovery $item (New-OBRecoveryOption $dest) -Async
        $worker = $null
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not $worker -and [DateTime]::UtcNow -lt $deadline) { $worker = pgrep -f -- "run-job --job $($job.JobId)"; Start-Sleep -Milliseconds 10 }
        $worker | Should -Not -BeNullOrEmpty
        $temps = @()
        while ($temps.Count -eq 0 -and [DateTime]::UtcNow -lt $deadline) {
            $temps = @(Get-ChildItem -LiteralPath $bin -Force -File -ErrorAction SilentlyContinue | Where-Object Name -like '.obagent-restore-*')
            if ($temps.Count -eq 0) { Start-Sleep -Milliseconds 2 }
        }
        kill -9 ([int]$worker) 2>$null
        Wait-NoJob   # Get-OBJob marks the job of a killed worker Failed
        $state = (Get-OBJob -Previous 1).JobStatus.JobState
        if ($state -eq 'Completed') { Set-ItResult -Inconclusive -Because 'the restore ended before the kill'; return }
        $state | Should -Be 'Failed'
        $left = @(Get-ChildItem -LiteralPath $bin -Force -File | Where-Object Name -like '.obagent-restore-*')
        if ($left.Count -eq 0) { Set-ItResult -Inconclusive -Because 'the kill came between two files: no temporary was left'; return }

        (Start-OBRecovery $item (New-OBRecoveryOption $dest Overwrite) | Select-Object -Last 1) | Should -Be $script:Done
        @(Get-ChildItem -LiteralPath $dest -Recurse -Force -File | Where-Object Name -like '.obagent-restore-*').Count | Should -Be 0
        Assert-SameTree (Join-Path $data 'bin') $bin
    }
}

Describe 'Recovery cmdlet metadata' {
    It 'Start-OBRecovery supports ShouldProcess, ConfirmImpact Medium, with the MARS positions' {
        $cmd = Get-Command Start-OBRecovery
        $attr = $cmd.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attr.SupportsShouldProcess | Should -BeTrue
        $attr.ConfirmImpact | Should -Be ([System.Management.Automation.ConfirmImpact]::Medium)
        $cmd.Parameters['RecoverableItem'].ParameterType | Should -Be ([OBAgent.OBRecoverableItem[]])
        $cmd.Parameters['RecoveryOption'].ParameterType | Should -Be ([OBAgent.OBRecoveryOption])
        $cmd.Parameters['EncryptionPassphrase'].ParameterType | Should -Be ([System.Security.SecureString])
        $pos = @{}
        foreach ($p in 'RecoverableItem', 'RecoveryOption', 'EncryptionPassphrase') {
            $pos[$p] = ($cmd.Parameters[$p].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })[0].Position
        }
        $pos['RecoverableItem'] | Should -Be 0
        $pos['RecoveryOption'] | Should -Be 1
        $pos['EncryptionPassphrase'] | Should -Be 2
    }

    It 'Get-OBRecoverableItem has the three MARS parameter sets, -PagingContext on browse and search' {
        $cmd = Get-Command Get-OBRecoverableItem
        $cmd.ParameterSets.Name | Sort-Object | Should -Be @('Browse', 'Search', 'Source')
        $paging = $cmd.Parameters['PagingContext'].ParameterSets.Keys | Sort-Object
        $paging | Should -Be @('Browse', 'Search')
        $cmd.Parameters['EncryptionPassphrase'].ParameterSets.Keys | Should -Contain '__AllParameterSets'
    }

    It 'New-OBRecoverableItem takes the point, the path and IsDir by position; New-OBRecoveryOption takes OverwriteType values of MARS' {
        $cmd = Get-Command New-OBRecoverableItem
        $cmd.Parameters['IsDir'].ParameterType | Should -Be ([bool])
        [enum]::GetNames((Get-Command New-OBRecoveryOption).Parameters['OverwriteType'].ParameterType) | Should -Be @('CreateCopy', 'Skip', 'Overwrite')
    }

    It 'the other cmdlets do not support ShouldProcess' {
        foreach ($n in 'Get-OBRecoverableSource', 'Get-OBRecoverableItem', 'New-OBRecoverableItem', 'New-OBRecoveryOption',
            'New-OBPagingContext', 'Get-OBAlternateBackupServer', 'Test-OBRecoveryPoint') {
            $attr = (Get-Command $n).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
            $attr.SupportsShouldProcess | Should -BeFalse -Because $n
        }
    }
}

Describe 'A NUL character in a path' {
    BeforeEach { $ctx = New-TestContext }
    AfterEach { Remove-TestContext $ctx }

    It 'New-OBRecoveryOption refuses a -DestinationPath with a NUL, which would cut it short (PathContainsNul)' {
        $err = Get-ErrorRecord { New-OBRecoveryOption -DestinationPath "$($ctx.Root)/restore`0/etc" }
        $err.FullyQualifiedErrorId | Should -Be 'PathContainsNul,OBAgent.Commands.NewOBRecoveryOptionCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception | Should -BeOfType [System.ArgumentException]
        $err.Exception.Message | Should -Match ([regex]::Escape("$($ctx.Root)/restore\0/etc"))
        Join-Path $ctx.Root 'restore' | Should -Not -Exist
    }

    It 'no text with a NUL reaches the library, whatever the cmdlet (InvalidInput)' {
        $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials "$($ctx.Root)/x.VaultCredentials`0.old" -Confirm:$false }
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.StartOBRegistrationCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match 'NUL'
    }
}
