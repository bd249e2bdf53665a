//! Scene layout and rendering: a street with vehicles driving towards or away from the camera
//! in two lanes (their plates growing or shrinking), pedestrians crossing above them, a
//! lighting drift and sensor noise; every object's box is known exactly in every frame.

use serde::{Deserialize, Serialize};

use crate::canvas::{Frame, Sprite};
use crate::error::{Error, Result};
use crate::faces::FacePhoto;
use crate::plates::{self, Plate};
use crate::rng::Rng;
use crate::text::Fonts;
use crate::truth::{FaceTruth, FrameTruth, ObjectBox, PlateTruth, Truth};

/// Settings of a scene; the same settings always give the same scene and truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SceneSpec {
    /// Frame width (even, 320–3840).
    pub width: u32,
    /// Frame height (even, 240–2160).
    pub height: u32,
    /// Frames per second (1–60).
    pub fps: u32,
    /// Length in seconds (1–600).
    pub seconds: f32,
    /// Random seed.
    pub seed: u64,
    /// Vehicles in the whole scene (none given: one every 2.5 s; 0: an empty road).
    pub vehicles: Option<u32>,
    /// Pedestrians (0: one every 5 s).
    pub pedestrians: u32,
    /// Sensor noise standard deviation, 0–255 scale.
    pub noise: f32,
    /// Dark scene: half the light, more noise.
    pub night: bool,
    /// H.264 bitrate, kbit/s (0: about 0.1 bit per pixel per frame).
    pub bitrate_kbps: u32,
}

impl Default for SceneSpec {
    fn default() -> Self {
        SceneSpec {
            width: 1280,
            height: 720,
            fps: 25,
            seconds: 20.0,
            seed: 1,
            vehicles: None,
            pedestrians: 0,
            noise: 3.0,
            night: false,
            bitrate_kbps: 0,
        }
    }
}

impl SceneSpec {
    /// Checks the ranges; the error names the bad setting.
    pub fn validate(&self) -> Result<()> {
        let bad = |key, message: String| Err(Error::Invalid { key, message });
        if !(320..=3840).contains(&self.width) || !self.width.is_multiple_of(2) {
            return bad("width", format!("{} must be even and within 320–3840", self.width));
        }
        if !(240..=2160).contains(&self.height) || !self.height.is_multiple_of(2) {
            return bad("height", format!("{} must be even and within 240–2160", self.height));
        }
        if !(1..=60).contains(&self.fps) {
            return bad("fps", format!("{} must be within 1–60", self.fps));
        }
        if !(1.0..=600.0).contains(&self.seconds) {
            return bad("seconds", format!("{} must be within 1–600", self.seconds));
        }
        if !(0.0..=50.0).contains(&self.noise) {
            return bad("noise", format!("{} must be within 0–50", self.noise));
        }
        Ok(())
    }

    /// Number of frames.
    pub fn frames(&self) -> u64 {
        (self.seconds * self.fps as f32).round() as u64
    }

    /// The bitrate used, kbit/s.
    pub fn bitrate(&self) -> u32 {
        if self.bitrate_kbps > 0 {
            self.bitrate_kbps
        } else {
            ((f64::from(self.width) * f64::from(self.height) * f64::from(self.fps) * 0.1) / 1000.0).round() as u32
        }
    }
}

/// A vehicle: body, plate and a straight path from `from` to `to` (plate centre, scale).
struct Vehicle {
    plate: Plate,
    body: Sprite,
    start: u64,
    end: u64,
    from: (f32, f32, f32),
    to: (f32, f32, f32),
    /// Plate width in frame pixels at scale 1.
    plate_width: f32,
}

/// A pedestrian: photo, path along x at a fixed height and size.
struct Pedestrian {
    photo: usize,
    start: u64,
    end: u64,
    x_from: f32,
    x_to: f32,
    top: f32,
    /// Sprite scale (frame pixels per photo pixel).
    scale: f32,
}

/// A planned scene, ready to render frame by frame.
pub struct Scene {
    spec: SceneSpec,
    background: Frame,
    vehicles: Vec<Vehicle>,
    pedestrians: Vec<Pedestrian>,
    photos: Vec<FacePhoto>,
    watch_plates: Vec<Option<String>>,
    watch_identities: Vec<String>,
}

/// Categories the sample watchlist uses for listed plates.
const CATEGORIES: &[&str] = &["stolen_vehicle", "wanted_owner", "bolo"];

impl Scene {
    /// Lays out the scene: vehicles alternate lanes, every other one or so is on the watchlist;
    /// pedestrians alternate identities, the first identity is on the watchlist.
    pub fn plan(spec: &SceneSpec, fonts: &Fonts, photos: Vec<FacePhoto>) -> Result<Scene> {
        spec.validate()?;
        if photos.is_empty() {
            return Err(Error::Invalid { key: "faces", message: "no face photos".into() });
        }
        let mut rng = Rng::new(spec.seed);
        let (w, h) = (spec.width as f32, spec.height as f32);
        let frames = spec.frames();
        let fps = spec.fps as f32;
        let n_vehicles = spec.vehicles.unwrap_or(((spec.seconds / 2.5) as u32).max(1));
        let slot = frames as f32 / n_vehicles.max(1) as f32;
        let mut vehicles = Vec::new();
        let mut watch_plates = Vec::new();
        for i in 0..n_vehicles {
            let start = (i as f32 * slot + rng.range(0.0, 0.2) * slot) as u64;
            let length = (fps * rng.range(2.6, 3.6)).min(frames.saturating_sub(start) as f32).max(2.0) as u64;
            let lane_x = if i % 2 == 0 { 0.27 * w } else { 0.73 * w } + rng.range(-0.02, 0.02) * w;
            let far = (lane_x + (0.5 * w - lane_x) * 0.25, 0.42 * h, 0.5);
            let near = (lane_x, 0.86 * h, 1.0);
            let (from, to) = if rng.chance(0.7) { (far, near) } else { (near, far) };
            let plate = plates::draw(fonts, plates::random_kind(&mut rng), &mut rng)?;
            let mut plate_sprite = plate.sprite.clone();
            // Motion blur along the path (vertical), a fraction of the per-frame motion.
            let speed = (to.1 - from.1).abs() / length as f32;
            let shutter = rng.range(0.0, 0.35);
            let plate_width = 0.15 * w;
            let radius = (speed * shutter * plate_sprite.width as f32 / plate_width).round() as usize;
            plate_sprite.motion_blur(radius, false);
            let body = vehicle_body(&mut rng);
            watch_plates.push(rng.chance(0.5).then(|| (*rng.pick(CATEGORIES)).to_owned()));
            vehicles.push(Vehicle {
                plate: Plate { sprite: plate_sprite, ..plate },
                body,
                start,
                end: (start + length).min(frames) - 1,
                from,
                to,
                plate_width,
            });
        }
        let n_peds = if spec.pedestrians > 0 { spec.pedestrians } else { ((spec.seconds / 5.0) as u32).max(1) };
        let pslot = frames as f32 / n_peds as f32;
        let mut pedestrians = Vec::new();
        for i in 0..n_peds {
            let photo = i as usize % photos.len();
            let p = &photos[photo];
            let face_h = p.face[3] - p.face[1];
            let scale = h * rng.range(0.11, 0.14) / face_h;
            let sw = p.sprite.width as f32 * scale;
            let start = (i as f32 * pslot + rng.range(0.0, 0.2) * pslot) as u64;
            let length = (fps * rng.range(4.0, 6.0)).min(frames.saturating_sub(start) as f32).max(2.0) as u64;
            let (x_from, x_to) = if rng.chance(0.5) { (-sw * 0.5, w - sw * 0.5) } else { (w - sw * 0.5, -sw * 0.5) };
            let top = h * rng.range(0.01, 0.04);
            pedestrians.push(Pedestrian {
                photo,
                start,
                end: (start + length).min(frames) - 1,
                x_from,
                x_to,
                top,
                scale,
            });
        }
        let watch_identities = vec![photos[0].identity.clone()];
        let background = background(spec, &mut rng);
        Ok(Scene { spec: spec.clone(), background, vehicles, pedestrians, photos, watch_plates, watch_identities })
    }

    /// Renders frame `index` as RGB bytes, with what is visible in it.
    pub fn render(&self, index: u64) -> (Vec<u8>, FrameTruth) {
        let mut frame = self.background.clone();
        let mut truth = FrameTruth { index, ..Default::default() };
        let (w, h) = (self.spec.width as f32, self.spec.height as f32);
        // Far vehicles first so near ones cover them.
        let mut order: Vec<(usize, f32)> = self
            .vehicles
            .iter()
            .enumerate()
            .filter(|(_, v)| (v.start..=v.end).contains(&index))
            .map(|(i, v)| (i, v.at(index).2))
            .collect();
        order.sort_by(|a, b| a.1.total_cmp(&b.1));
        for (i, _) in order {
            let v = &self.vehicles[i];
            let (cx, cy, s) = v.at(index);
            let pw = v.plate_width * s;
            let ph = pw * v.plate.sprite.height as f32 / v.plate.sprite.width as f32;
            let vw = 3.0 * pw;
            let vh = 0.62 * vw;
            let vtop = cy - 0.82 * vh;
            frame.blit(&v.body, cx - vw / 2.0, vtop, cx + vw / 2.0, vtop + vh);
            let plate_box = [cx - pw / 2.0, cy - ph / 2.0, cx + pw / 2.0, cy + ph / 2.0];
            frame.blit(&v.plate.sprite, plate_box[0], plate_box[1], plate_box[2], plate_box[3]);
            if let Some(b) = clip(plate_box, w, h) {
                truth.plates.push(ObjectBox { id: i as u32 + 1, ..b });
            }
        }
        for (i, p) in self.pedestrians.iter().enumerate().filter(|(_, p)| (p.start..=p.end).contains(&index)) {
            let photo = &self.photos[p.photo];
            let t = (index - p.start) as f32 / (p.end - p.start).max(1) as f32;
            let x = p.x_from + (p.x_to - p.x_from) * t;
            let (sw, sh) = (photo.sprite.width as f32 * p.scale, photo.sprite.height as f32 * p.scale);
            frame.blit(&photo.sprite, x, p.top, x + sw, p.top + sh);
            let f = photo.face;
            let face_box = [x + f[0] * p.scale, p.top + f[1] * p.scale, x + f[2] * p.scale, p.top + f[3] * p.scale];
            if let Some(b) = clip(face_box, w, h) {
                truth.faces.push(ObjectBox { id: i as u32 + 1, ..b });
            }
        }
        let secs = index as f32 / self.spec.fps as f32;
        let base = if self.spec.night { 0.5 } else { 1.0 };
        let gain = base * (1.0 + 0.12 * (secs * std::f32::consts::TAU / 6.0).sin());
        let sigma = if self.spec.night { self.spec.noise * 2.0 } else { self.spec.noise };
        let mut rng = Rng::new(self.spec.seed ^ index.wrapping_mul(0x9E37_79B9));
        (frame.to_rgb8(gain, sigma, &mut rng), truth)
    }

    /// The scene's truth (per-frame boxes included), computed without rendering pixels.
    pub fn truth(&self) -> Truth {
        let frames = self.spec.frames();
        let mut per_frame: Vec<FrameTruth> =
            (0..frames).map(|index| FrameTruth { index, ..Default::default() }).collect();
        let (w, h) = (self.spec.width as f32, self.spec.height as f32);
        let mut plates = Vec::new();
        for (i, v) in self.vehicles.iter().enumerate() {
            let (mut first, mut last) = (None, 0);
            for index in v.start..=v.end {
                let (cx, cy, s) = v.at(index);
                let pw = v.plate_width * s;
                let ph = pw * v.plate.sprite.height as f32 / v.plate.sprite.width as f32;
                if let Some(b) = clip([cx - pw / 2.0, cy - ph / 2.0, cx + pw / 2.0, cy + ph / 2.0], w, h) {
                    per_frame[index as usize].plates.push(ObjectBox { id: i as u32 + 1, ..b });
                    first.get_or_insert(index);
                    last = index;
                }
            }
            let text = raqib_core::PlateText::parse(&v.plate.text, Some(v.plate.country));
            plates.push(PlateTruth {
                id: i as u32 + 1,
                text: v.plate.text.clone(),
                latin: text.map(|t| t.latin_alias()).unwrap_or_else(|_| v.plate.text.clone()),
                country: v.plate.country.to_owned(),
                kind: v.plate.kind,
                first_frame: first.unwrap_or(v.start),
                last_frame: last,
                watchlist: self.watch_plates[i].clone(),
            });
        }
        let mut faces = Vec::new();
        for (i, p) in self.pedestrians.iter().enumerate() {
            let photo = &self.photos[p.photo];
            let (mut first, mut last) = (None, 0);
            for index in p.start..=p.end {
                let t = (index - p.start) as f32 / (p.end - p.start).max(1) as f32;
                let x = p.x_from + (p.x_to - p.x_from) * t;
                let f = photo.face;
                let b = [x + f[0] * p.scale, p.top + f[1] * p.scale, x + f[2] * p.scale, p.top + f[3] * p.scale];
                if let Some(b) = clip(b, w, h) {
                    per_frame[index as usize].faces.push(ObjectBox { id: i as u32 + 1, ..b });
                    first.get_or_insert(index);
                    last = index;
                }
            }
            faces.push(FaceTruth {
                id: i as u32 + 1,
                identity: photo.identity.clone(),
                first_frame: first.unwrap_or(p.start),
                last_frame: last,
                watchlist: self.watch_identities.contains(&photo.identity),
            });
        }
        Truth { version: 1, spec: self.spec.clone(), frames, plates, faces, per_frame }
    }

    /// The photo file name of each identity on the sample persons list.
    pub fn watch_identities(&self) -> &[String] {
        &self.watch_identities
    }
}

impl Vehicle {
    /// Plate centre and scale at frame `index`.
    fn at(&self, index: u64) -> (f32, f32, f32) {
        let t = (index.saturating_sub(self.start)) as f32 / (self.end - self.start).max(1) as f32;
        let lerp = |a: f32, b: f32| a + (b - a) * t;
        (lerp(self.from.0, self.to.0), lerp(self.from.1, self.to.1), lerp(self.from.2, self.to.2))
    }
}

/// `b` clipped to the frame with the share left visible; `None` when fully outside.
fn clip(b: [f32; 4], w: f32, h: f32) -> Option<ObjectBox> {
    let c = [b[0].max(0.0), b[1].max(0.0), b[2].min(w), b[3].min(h)];
    if c[2] <= c[0] || c[3] <= c[1] {
        return None;
    }
    let area = |b: [f32; 4]| (b[2] - b[0]) * (b[3] - b[1]);
    Some(ObjectBox { id: 0, bbox: c, visible: area(c) / area(b).max(1e-6) })
}

/// A car seen from the front or back: body, windscreen, lights, bumper (small sprite, scaled up).
fn vehicle_body(rng: &mut Rng) -> Sprite {
    const COLOURS: &[[u8; 3]] =
        &[[200, 200, 205], [30, 30, 35], [150, 20, 25], [20, 50, 120], [230, 230, 225], [90, 95, 100], [170, 140, 60]];
    let c = *rng.pick(COLOURS);
    let (w, h) = (300usize, 186usize);
    let mut s = Sprite::filled(w, h, [0, 0, 0], 0.0);
    s.fill_rect(30.0, 0.0, 270.0, 70.0, c); // roof and pillars
    s.fill_rect(45.0, 8.0, 255.0, 64.0, [40, 55, 70]); // windscreen
    s.fill_rect(0.0, 60.0, 300.0, 170.0, c); // body
    s.fill_rect(15.0, 85.0, 70.0, 105.0, [240, 235, 200]); // lights
    s.fill_rect(230.0, 85.0, 285.0, 105.0, [240, 235, 200]);
    s.fill_rect(0.0, 150.0, 300.0, 172.0, [25, 25, 25]); // bumper
    s.fill_rect(20.0, 168.0, 60.0, 186.0, [10, 10, 10]); // tyres
    s.fill_rect(240.0, 168.0, 280.0, 186.0, [10, 10, 10]);
    s
}

/// Sky, a row of buildings, pavement and a two-lane road with dashes, lightly textured.
fn background(spec: &SceneSpec, rng: &mut Rng) -> Frame {
    let (w, h) = (spec.width as usize, spec.height as usize);
    let mut f = Frame { width: w, height: h, data: vec![0.0; w * h * 3] };
    let horizon = (0.33 * h as f32) as usize;
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) * 3;
            let px = if y < horizon {
                let t = y as f32 / horizon as f32;
                [150.0 + 60.0 * t, 180.0 + 40.0 * t, 220.0 + 20.0 * t]
            } else {
                let t = (y - horizon) as f32 / (h - horizon) as f32;
                let g = 95.0 + 30.0 * t;
                [g, g, g + 3.0]
            };
            f.data[i..i + 3].copy_from_slice(&px);
        }
    }
    // Buildings along the horizon.
    let mut x = 0.0;
    while x < w as f32 {
        let bw = rng.range(0.05, 0.12) * w as f32;
        let top = horizon as f32 * rng.range(0.1, 0.6);
        let g = rng.range(110.0, 190.0);
        let tint = [g, g * rng.range(0.9, 1.05), g * rng.range(0.85, 1.0)];
        fill(&mut f, x, top, x + bw - 2.0, horizon as f32, tint);
        let mut wy = top + 8.0;
        while wy + 10.0 < horizon as f32 {
            let mut wx = x + 6.0;
            while wx + 8.0 < x + bw - 6.0 {
                fill(&mut f, wx, wy, wx + 7.0, wy + 9.0, [60.0, 70.0, 85.0]);
                wx += 14.0;
            }
            wy += 18.0;
        }
        x += bw;
    }
    // Lane dashes down the middle of the road, wider towards the camera.
    let mut y = horizon as f32 + 10.0;
    while y < h as f32 {
        let t = (y - horizon as f32) / (h - horizon) as f32;
        let half = 2.0 + 6.0 * t;
        let len = 10.0 + 40.0 * t;
        fill(&mut f, w as f32 / 2.0 - half, y, w as f32 / 2.0 + half, y + len, [225.0, 225.0, 215.0]);
        y += len * 2.0;
    }
    // Texture: fixed per-pixel grain (asphalt, facades).
    for v in f.data.iter_mut() {
        *v = (*v + rng.range(-6.0, 6.0)).clamp(0.0, 255.0);
    }
    f
}

fn fill(f: &mut Frame, x0: f32, y0: f32, x1: f32, y1: f32, rgb: [f32; 3]) {
    let xa = (x0.max(0.0) as usize).min(f.width);
    let xb = (x1.max(0.0) as usize).min(f.width);
    let ya = (y0.max(0.0) as usize).min(f.height);
    let yb = (y1.max(0.0) as usize).min(f.height);
    for y in ya..yb {
        for x in xa..xb {
            let i = (y * f.width + x) * 3;
            f.data[i..i + 3].copy_from_slice(&rgb);
        }
    }
}
