/// One annotation of a dataset dict, as Detectron2's load_coco_json builds it.
public struct Annotation: Equatable, Sendable {
    /// [x, y, w, h] for xywhAbs, [x1, y1, x2, y2] for xyxyAbs.
    public var bbox: [Double]
    public var bboxMode: BoxMode
    /// The contiguous class id 0..K-1.
    public var categoryID: Int
    public var isCrowd: Int
    /// The annotation's id in the JSON file (not part of Detectron2's dict; kept for messages).
    public var id: Int64?

    public init(bbox: [Double], bboxMode: BoxMode = .xywhAbs, categoryID: Int, isCrowd: Int = 0, id: Int64? = nil) {
        self.bbox = bbox
        self.bboxMode = bboxMode
        self.categoryID = categoryID
        self.isCrowd = isCrowd
        self.id = id
    }

    /// The box as x1, y1, x2, y2 (no -1, as Detectron2).
    public var xyxy: [Double] { BoxMode.convert(bbox, from: bboxMode, to: .xyxyAbs) }
}

/// One image record: Detectron2's dataset dict.
public struct DatasetDict: Equatable, Sendable {
    public var fileName: String
    public var height: Int
    public var width: Int
    public var imageID: Int64
    public var annotations: [Annotation]

    public init(fileName: String, height: Int, width: Int, imageID: Int64, annotations: [Annotation]) {
        self.fileName = fileName
        self.height = height
        self.width = width
        self.imageID = imageID
        self.annotations = annotations
    }
}
